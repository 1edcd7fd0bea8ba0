"""Property: whatever JSON types a client puts where the hook expects others — in the call's
fields, its context, its draft orders, and the prefetch down to each entry's resource, its
patient reference and the prefetched Patient's elements — the service answers 200 or a 4xx
with an OperationOutcome, never a 5xx.

Elements deeper inside prefetched resources are the candidacy engine's to read
(tests/candidacy)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugin.candidacy import default_policy
from plugin.cds_hooks.candidacy_service import CandidacyService
from plugin.cds_hooks.chart_queries import chart_queries
from plugin.cds_hooks.discovery import service_by_id
from plugin.cds_hooks.errors import CdsHooksError
from plugin.errors import InputProblemError
from tests.cds_hooks.charts import sandbox_chart
from tests.cds_hooks.conftest import (
    FHIR_SERVER,
    PATIENT_ID,
    SELECT,
    SIGN,
    CdsApp,
    discography_order,
    hook_call,
    other_order,
)
from tests.cds_hooks.fake_fhir import FakeFhirServer

Path = tuple[str | int, ...]

#: One value of each JSON type (the wrong one almost anywhere), then small nested ones.
JSON_VALUES = st.sampled_from(
    [None, True, 0, -1.5, "", "x", "Patient/other", [], [1], ["x"], {}, {"a": 1}, [{"x": {}}]]
) | st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner, max_size=2)
    ),
    max_leaves=4,
)


def _paths(value: Any, path: Path = ()) -> Iterator[Path]:
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in items:
        yield (*path, key)
        yield from _paths(child, (*path, key))


def _mutable(path: Path) -> bool:
    # Inside prefetch: up to each entry's resource, and the references naming its patient.
    return (
        path[0] != "prefetch"
        or len(path) <= 5
        or (len(path) <= 7 and any(step in ("subject", "patient") for step in path[5:6]))
    )


def _bases() -> list[tuple[str, dict[str, Any]]]:
    today = datetime.now(UTC).date()
    chart = sandbox_chart("on-apixaban", today, as_patient=PATIENT_ID)
    prefetch = FakeFhirServer(FHIR_SERVER, chart).prefetch(
        chart_queries(default_policy()), PATIENT_ID
    )
    # Keep the chart small: a few entries per key reach every shape and keep each call fast.
    for value in prefetch.values():
        if isinstance(value, dict) and value.get("resourceType") == "Bundle":
            value["entry"] = value["entry"][:3]
    drafts = [discography_order("a", extension=[]), other_order(), discography_order("b")]
    return [
        (SIGN, hook_call("order-sign", drafts, prefetch=prefetch)),
        (SELECT, hook_call("order-select", drafts, prefetch=prefetch)),
    ]


BASES = _bases()
_ALL = sorted({p for _, body in BASES for p in _paths(body) if _mutable(p)}, key=repr)
# Drawn region by region: the prefetch holds most of the places, the drafts the trickiest.
_DRAFTS = st.sampled_from([p for p in _ALL if p[:2] == ("context", "draftOrders")])
PLACES = st.one_of(
    _DRAFTS,
    _DRAFTS,
    _DRAFTS,
    st.sampled_from([p for p in _ALL if p[0] == "context" and p[1:2] != ("draftOrders",)]),
    st.sampled_from([p for p in _ALL if p[0] == "prefetch"]),
    st.sampled_from([p for p in _ALL if len(p) == 1]),
)


def _mutated(body: dict[str, Any], mutations: list[tuple[Path, Any]]) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    for path, value in mutations:
        target: Any = changed
        try:
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = copy.deepcopy(value)  # a shared value could come to hold itself
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the place: nothing to change
    return changed


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    base=st.sampled_from(BASES),
    mutations=st.lists(st.tuples(PLACES, JSON_VALUES), min_size=1, max_size=2),
)
async def test_wrong_types_anywhere_are_never_a_5xx(
    cds: CdsApp, base: tuple[str, dict[str, Any]], mutations: list[tuple[Path, Any]]
) -> None:
    service, body = base
    response = await cds.call(service, json.dumps(_mutated(body, mutations)))
    assert response.status_code < 500, response.text
    answer = response.json()
    if response.status_code == 200:
        assert isinstance(answer["cards"], list)
    else:
        assert 400 <= response.status_code < 500
        assert answer["resourceType"] == "OperationOutcome" and answer["issue"]


#: One value of each JSON type, for the sweep below.
_EACH_TYPE: list[Any] = [None, True, 0, 1.5, "x", [], [1], {"a": 1}]


async def test_each_json_type_at_each_place_of_the_context_is_never_a_5xx() -> None:
    # The random walk above may miss one narrow place; this sweep visits every place of the
    # context and draft orders with every JSON type, one at a time (service level: ~1 s).
    cds = CandidacyService(
        policy=default_policy(),
        launch_url="https://app.example.org/launch",
        http=httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(599))),
    )
    failures: list[str] = []
    for service_id, body in BASES:
        service = service_by_id(service_id)
        assert service is not None
        for place in (p for p in _ALL if p[0] == "context"):
            for value in _EACH_TYPE:
                raw = json.dumps(_mutated(body, [(place, value)])).encode()
                try:
                    await cds.answer(service, raw)
                except CdsHooksError as error:
                    if error.status >= 500:
                        failures.append(f"{service_id} {place} = {value!r}: {error.status}")
                except InputProblemError:
                    pass  # the router's 400
                except Exception as error:
                    failures.append(f"{service_id} {place} = {value!r}: {error!r}")
    assert failures == []
