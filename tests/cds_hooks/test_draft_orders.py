from __future__ import annotations

from typing import Any

import pytest

from plugin.cds_hooks.draft_orders import discography_drafts, draft_reference
from plugin.cds_hooks.errors import CdsRequestInvalidError
from plugin.cds_hooks.extension import CANDIDACY_EXTENSION_URL
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


def test_order_select_without_selections_focuses_on_every_discography_draft() -> None:
    body = hook_call(
        "order-select", [discography_order("a"), other_order(), discography_order("b")]
    )
    del body["context"]["selections"]
    assert drafts(body, Hook.ORDER_SELECT) == ["ServiceRequest/a", "ServiceRequest/b"]


def test_a_draft_for_another_patient_is_in_focus_not_a_malformed_call() -> None:
    # Whose order it is, is told on its card (`draft_subject`), not by refusing the call.
    body = hook_call(drafts=[other_order(), discography_order(patient="else")])
    assert drafts(body) == ["ServiceRequest/draft-1"]


@pytest.mark.parametrize("rid", ["a b/c", "", "x" * 65, "é"])
def test_an_id_that_is_no_fhir_id_gives_no_reference(rid: str) -> None:
    assert draft_reference({**discography_order(), "id": rid}) is None


@pytest.mark.parametrize(
    ("extension", "field"),
    [
        (5, "context.draftOrders.entry[1].resource.extension"),
        (None, "context.draftOrders.entry[1].resource.extension"),
        ([5], "context.draftOrders.entry[1].resource.extension[0]"),
        ([{"valueString": "no url"}], "context.draftOrders.entry[1].resource.extension[0]"),
        (
            [{"url": CANDIDACY_EXTENSION_URL, "extension": 5}],
            "context.draftOrders.entry[1].resource.extension[0].extension",
        ),
        (
            [{"url": CANDIDACY_EXTENSION_URL, "extension": {"url": "attestation"}}],
            "context.draftOrders.entry[1].resource.extension[0].extension",
        ),
        (
            [{"url": CANDIDACY_EXTENSION_URL, "extension": ["attestation"]}],
            "context.draftOrders.entry[1].resource.extension[0].extension[0]",
        ),
    ],
)
def test_malformed_extension_on_a_discography_draft_is_refused(extension: Any, field: str) -> None:
    order = discography_order()
    order["extension"] = extension
    with pytest.raises(CdsRequestInvalidError) as caught:
        drafts(hook_call(drafts=[other_order(), order]))
    assert [p.field for p in caught.value.problems] == [field]


def test_well_formed_extensions_pass() -> None:
    order = discography_order(
        extension=[
            {"url": "https://ehr.example.org/ext/priority", "valueString": "routine"},
            {
                "url": CANDIDACY_EXTENSION_URL,
                "extension": [{"url": "attestation", "valueCode": "x"}],
            },
        ]
    )
    assert drafts(hook_call(drafts=[order])) == ["ServiceRequest/draft-1"]


@pytest.mark.parametrize(
    ("element", "value"),
    [("code", {"coding": 1.5}), ("bodySite", [{"coding": [{"code": {"x": 1}}]}])],
)
def test_unreadable_drafts_are_refused_not_crashed_on(element: str, value: Any) -> None:
    # Review fuzzing: these reached the order reader and raised TypeError (a 500).
    order = {**discography_order(), element: value}
    with pytest.raises(CdsRequestInvalidError) as caught:
        drafts(hook_call(drafts=[order]))
    assert caught.value.problems[0].field.startswith(
        f"context.draftOrders.entry[0].resource.{element}"
    )
