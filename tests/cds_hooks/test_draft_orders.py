from __future__ import annotations

from typing import Any

import pytest

from plugin.cds_hooks.draft_orders import discography_drafts, draft_reference
from plugin.cds_hooks.errors import CdsRequestInvalidError
from plugin.cds_hooks.hook_request import Hook, parse_hook_request
from plugin.terminology import system_url
from tests.cds_hooks.conftest import discography_order, hook_call, other_order


def drafts(body: dict[str, Any], hook: Hook = Hook.ORDER_SIGN) -> list[str | None]:
    return [draft_reference(d) for d in discography_drafts(parse_hook_request(body, hook).context)]


@pytest.mark.parametrize("cpt", ["62290", "62291", "72285", "72295"])
def test_cpt_discography_orders(cpt: str) -> None:
    levels = ("C5-C6",) if cpt in ("62291", "72285") else ("L4-L5",)
    assert drafts(hook_call(drafts=[discography_order(cpt=cpt, levels=levels)])) == [
        "ServiceRequest/draft-1"
    ]


@pytest.mark.parametrize("loinc", ["37193-0", "37192-2", "70933-7", "24927-6"])
def test_loinc_discography_orders(loinc: str) -> None:
    order = discography_order(levels=())
    order["code"] = {"coding": [{"system": system_url("loinc"), "code": loinc}]}
    assert drafts(hook_call(drafts=[order])) == ["ServiceRequest/draft-1"]


def test_other_orders_are_not_ours() -> None:
    assert drafts(hook_call(drafts=[other_order()])) == []
    medication = {"resourceType": "MedicationRequest", "id": "m1", "status": "draft"}
    assert drafts(hook_call(drafts=[medication])) == []


def test_order_select_focuses_on_selections() -> None:
    body = hook_call(
        "order-select",
        [discography_order("a"), discography_order("b")],
        selections=["ServiceRequest/b"],
    )
    assert drafts(body, Hook.ORDER_SELECT) == ["ServiceRequest/b"]


def test_draft_for_another_patient_is_refused() -> None:
    with pytest.raises(CdsRequestInvalidError) as caught:
        drafts(hook_call(drafts=[other_order(), discography_order(patient="else")]))
    assert caught.value.problems[0].field == "context.draftOrders.entry[1].resource.subject"
