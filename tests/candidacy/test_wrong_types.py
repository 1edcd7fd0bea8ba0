"""An EHR's odd data never takes the engine down: any element of a synthetic sandbox chart
replaced by a value of another JSON type gives an assessment or a `ChartInvalidError` naming
the problem — never any other exception (the CDS service would answer 500)."""

from __future__ import annotations

import copy
from datetime import date
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugin.candidacy import Order, assess_candidacy, chart_from_resources
from plugin.candidacy.chart import ChartInvalidError
from plugin.study.levels import Region
from tests.candidacy.chart_builder import BOTH
from tests.candidacy.synthetic_charts import patient_charts, scenarios

TODAY = date(2025, 6, 15)
Path = tuple[str | int, ...]

# Keys the engine reads, so replaced objects are sometimes half-right ({"coding": 5}).
_KEYS = st.sampled_from(
    ["coding", "code", "system", "display", "text", "reference", "start", "end", "value"]
) | st.text(max_size=4)
_SCALARS: dict[type, st.SearchStrategy[Any]] = {
    type(None): st.none(),
    bool: st.booleans(),
    int: st.integers(),  # JSON numbers have no size limit; Python's decoder keeps them whole
    float: st.floats(allow_nan=False, allow_infinity=False),  # JSON has no NaN or Infinity
    str: st.sampled_from(["", "x", "entered-in-error", "2025-13-45", "L4-5"]) | st.text(),
}
_ANY_JSON = st.recursive(
    st.one_of(*_SCALARS.values()),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3),
    max_leaves=6,
)
_OF_TYPE: dict[type, st.SearchStrategy[Any]] = {
    **_SCALARS,
    list: st.lists(_ANY_JSON, max_size=3),
    dict: st.dictionaries(_KEYS, _ANY_JSON, max_size=3),
}


def _json_type(value: Any) -> type:
    return type(value) if type(value) in _OF_TYPE else type(None)


def _paths(value: Any, prefix: Path = ()) -> list[Path]:
    """Every element path inside a JSON value (object keys and list positions)."""
    found: list[Path] = []
    if isinstance(value, dict):
        items: list[tuple[str | int, Any]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return found
    for key, item in items:
        found.append((*prefix, key))
        found.extend(_paths(item, (*prefix, key)))
    return found


@cache
def _charts() -> dict[str, list[dict[str, Any]]]:
    return patient_charts(TODAY)


@cache
def _places() -> list[tuple[str, Path]]:
    """(patient, path) of every element of every synthetic chart, the path starting at the
    resource's position in the chart."""
    return [
        (patient, (index, *path))
        for patient, resources in sorted(_charts().items())
        for index, resource in enumerate(resources)
        for path in _paths(resource)
    ]


def _orders() -> dict[str, Order]:
    return {
        s.patient_id: Order(region=Region(s.region), levels=tuple(s.levels)) for s in scenarios()
    }


@st.composite
def _altered_charts(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]]]:
    """A synthetic chart with one to three elements given a value of another JSON type."""
    patient, first = draw(st.sampled_from(_places()))
    chart = copy.deepcopy(_charts()[patient])
    places = [first] + [
        path for p, path in draw(st.lists(st.sampled_from(_places()), max_size=2)) if p == patient
    ]
    for path in places:
        parent: Any = chart
        try:
            for key in path[:-1]:
                parent = parent[key]
            current = parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier replacement removed this place
        other = draw(st.sampled_from([t for t in _OF_TYPE if t is not _json_type(current)]))
        parent[path[-1]] = draw(_OF_TYPE[other])
    return patient, chart


@settings(
    max_examples=400,
    derandomize=True,  # the same examples on every run: CI stays deterministic
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(_altered_charts())
def test_wrong_typed_elements_give_an_assessment_or_a_chart_problem(
    altered: tuple[str, list[dict[str, Any]]],
) -> None:
    patient, resources = altered
    try:
        chart = chart_from_resources(resources)
        assessment = assess_candidacy(
            chart, today=TODAY, order=_orders().get(patient), attestations=BOTH
        )
    except ChartInvalidError as error:
        assert error.problems  # every refusal names what is wrong
    else:
        assert assessment.outcome is not None
