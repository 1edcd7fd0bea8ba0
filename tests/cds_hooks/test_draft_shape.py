from __future__ import annotations

from typing import Any

import pytest

from plugin.cds_hooks.draft_shape import code_problems, discography_draft_problems
from tests.cds_hooks.conftest import discography_order

PATH = "context.draftOrders.entry[0].resource"


def test_a_well_formed_draft_has_no_problems() -> None:
    order = discography_order()
    assert code_problems(order, PATH) == []
    assert discography_draft_problems(order, PATH) == []


@pytest.mark.parametrize(
    ("code", "field"),
    [
        (5, f"{PATH}.code"),
        ({"coding": 1.5}, f"{PATH}.code.coding"),
        ({"coding": ["62290"]}, f"{PATH}.code.coding[0]"),
        ({"coding": [{"code": 62290}]}, f"{PATH}.code.coding[0].code"),
        ({"coding": [{"system": ["x"], "code": "62290"}]}, f"{PATH}.code.coding[0].system"),
        ({"text": {"a": 1}}, f"{PATH}.code.text"),
    ],
)
def test_unreadable_code_is_named(code: Any, field: str) -> None:
    assert [p.field for p in code_problems({"code": code}, PATH)] == [field]


@pytest.mark.parametrize(
    ("element", "value", "field"),
    [
        ("id", 7, f"{PATH}.id"),
        ("subject", "Patient/pt-1", f"{PATH}.subject"),
        ("subject", {"reference": 7}, f"{PATH}.subject.reference"),
        ("bodySite", {"coding": []}, f"{PATH}.bodySite"),
        ("bodySite", ["L4-L5"], f"{PATH}.bodySite[0]"),
        ("bodySite", [{"coding": [{"code": {"x": 1}}]}], f"{PATH}.bodySite[0].coding[0].code"),
        ("extension", 5, f"{PATH}.extension"),
    ],
)
def test_unreadable_discography_draft_elements_are_named(
    element: str, value: Any, field: str
) -> None:
    order = {**discography_order(), element: value}
    assert [p.field for p in discography_draft_problems(order, PATH)] == [field]
