"""The order: region and levels from a ServiceRequest or given directly."""

from __future__ import annotations

from typing import Any

import pytest

from plugin.candidacy.chart import chart_from_resources
from plugin.candidacy.order import (
    Order,
    OrderInvalidError,
    is_discography_request,
    order_from_json,
    order_from_service_request,
    order_in_chart,
)
from plugin.study.levels import Region

CPT = "http://www.ama-assn.org/go/cpt"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"


def request(
    *codes: tuple[str, str], sites: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": "sr1",
        "status": "draft",
        "intent": "order",
        "code": {"coding": [{"system": s, "code": c} for s, c in codes]},
    }
    if sites is not None:
        resource["bodySite"] = sites
    return resource | extra


@pytest.mark.parametrize(
    ("codes", "sites", "region", "levels"),
    [
        ([(CPT, "62290")], None, Region.LUMBAR, ()),
        ([(CPT, "72295")], None, Region.LUMBAR, ()),
        ([(LOINC, "37192-2")], None, Region.CERVICAL, ()),
        ([(LOINC, "70933-7")], None, Region.THORACIC, ()),
        ([(CPT, "62291")], None, None, ()),  # cervical or thoracic: not decided by the code
        (
            [(CPT, "62291")],
            [{"coding": [{"system": SNOMED, "code": "73959003"}]}],
            Region.CERVICAL,
            ("C5-C6",),
        ),
        ([(LOINC, "24927-6")], [{"text": "L4-5, L5-S1"}], Region.LUMBAR, ("L4-L5", "L5-S1")),
        ([(CPT, "62290")], [{"text": "T12-L1"}], Region.LUMBAR, ("T12-L1",)),  # thoracolumbar
        # Body sites of the wrong JSON type read as absent.
        ([(CPT, "62290")], [{"coding": [{"system": SNOMED, "code": {"x": 1}}]}], Region.LUMBAR, ()),
        ([(CPT, "62290")], [{"coding": 5}], Region.LUMBAR, ()),
        ([(CPT, "62290")], 5, Region.LUMBAR, ()),
    ],
)
def test_region_and_levels_from_a_service_request(
    codes: list[tuple[str, str]], sites: Any, region: Region | None, levels: tuple[str, ...]
) -> None:
    order = order_from_service_request(request(*codes, sites=sites))
    assert (order.region, order.levels, order.reference) == (region, levels, "ServiceRequest/sr1")


def test_a_non_discography_request_is_refused() -> None:
    resource = request((CPT, "97110"))
    assert not is_discography_request(resource)
    with pytest.raises(OrderInvalidError) as caught:
        order_from_service_request(resource)
    assert caught.value.problems[0].field == "code"


def test_levels_outside_the_coded_region_are_refused() -> None:
    with pytest.raises(OrderInvalidError) as caught:
        order_from_service_request(request((CPT, "62290"), sites=[{"text": "C5-C6"}]))
    assert caught.value.problems[0].rule == "level-outside-region"


def test_an_order_given_directly() -> None:
    order = order_from_json({"region": "lumbar", "levels": ["l5/s1", "L4-5", "L4-L5"]})
    assert order == Order(region=Region.LUMBAR, levels=("L4-L5", "L5-S1"))
    assert order_from_json({"levels": ["C5-C6"]}).region is Region.CERVICAL
    assert order_from_json({}).region is None


@pytest.mark.parametrize(
    ("data", "field", "rule"),
    [
        ({"region": "sacral"}, "region", "enum"),
        ({"levels": "L4-L5"}, "levels", "type"),
        ({"levels": ["L9-L10"]}, "levels[0]", "unknown-level"),
        ({"levels": [4]}, "levels[0]", "unknown-level"),
        ({"region": "cervical", "levels": ["L4-L5"]}, "levels", "level-outside-region"),
        ({"side": "left"}, "side", "extra_forbidden"),
        ([], "", "type"),
    ],
)
def test_a_bad_direct_order_names_the_field(data: Any, field: str, rule: str) -> None:
    with pytest.raises(OrderInvalidError) as caught:
        order_from_json(data)
    assert (field, rule) in {(p.field, p.rule) for p in caught.value.problems}


def test_the_open_discography_order_in_a_chart() -> None:
    older = request((CPT, "62291"), id="old", authoredOn="2025-01-01", sites=[{"text": "C5-C6"}])
    newer = request((CPT, "62290"), id="new", authoredOn="2025-05-01", sites=[{"text": "L4-L5"}])
    done = request((CPT, "62290"), id="done", status="completed", authoredOn="2025-06-01")
    other = request((CPT, "97110"), id="pt", authoredOn="2025-06-02")
    order = order_in_chart(chart_from_resources([older, newer, done, other]))
    assert order == Order(region=Region.LUMBAR, levels=("L4-L5",), reference="ServiceRequest/new")
    assert order_in_chart(chart_from_resources([other])) is None
