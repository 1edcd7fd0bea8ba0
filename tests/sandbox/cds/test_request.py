"""The order-select / order-sign request the sandbox builds for a discography order."""

from __future__ import annotations

import uuid

from plugin.candidacy.order import order_from_service_request
from plugin.sandbox.cds.request import (
    DiscographyOrder,
    FhirAuthorization,
    Hook,
    draft_service_request,
    hook_context,
    hook_request,
    levels_from_form,
    prefetch_query,
)
from plugin.terminology import disc_snomed_code


def _order(hook: Hook = Hook.ORDER_SIGN, **kw: object) -> DiscographyOrder:
    values: dict[str, object] = {
        "patient_id": "lumbar-candidate",
        "user_id": "spine-proceduralist",
        "cpt": "62290",
        "levels": ("L4-L5", "L5-S1"),
        "hook": hook,
        "send_prefetch": True,
    }
    values.update(kw)
    return DiscographyOrder(**values)  # type: ignore[arg-type]


def test_the_draft_is_a_discography_order_the_candidacy_engine_reads() -> None:
    draft = draft_service_request(_order(), "draft-1")
    assert (draft["status"], draft["intent"]) == ("draft", "order")
    assert draft["subject"] == {"reference": "Patient/lumbar-candidate"}
    assert [c["coding"][0]["code"] for c in draft["bodySite"]] == [
        disc_snomed_code("L4-L5").code,
        disc_snomed_code("L5-S1").code,
    ]
    order = order_from_service_request(draft)
    assert list(order.levels) == ["L4-L5", "L5-S1"]


def test_order_select_names_the_selected_draft_and_order_sign_does_not() -> None:
    draft = draft_service_request(_order(), "draft-1")
    select = hook_context(_order(Hook.ORDER_SELECT), draft, "enc-1")
    sign = hook_context(_order(), draft, None)
    assert select["selections"] == ["ServiceRequest/draft-1"]
    assert select["encounterId"] == "enc-1"
    assert "selections" not in sign and "encounterId" not in sign
    assert sign["userId"] == "Practitioner/spine-proceduralist"
    assert sign["draftOrders"]["entry"][0]["resource"] == draft


def test_the_request_sends_prefetch_or_fhir_server_with_its_authorization() -> None:
    context = hook_context(_order(), draft_service_request(_order(), "d"), None)
    auth = FhirAuthorization("tok", "Bearer", 300, "patient/*.rs", "app", "lumbar-candidate")
    with_prefetch = hook_request(
        _order(), context, prefetch={"patient": None}, fhir_server=None, authorization=None
    )
    without = hook_request(
        _order(), context, prefetch=None, fhir_server="http://x/fhir", authorization=auth
    )
    assert with_prefetch["hook"] == "order-sign"
    assert uuid.UUID(with_prefetch["hookInstance"]).version == 4
    assert with_prefetch["prefetch"] == {"patient": None}
    assert "fhirServer" not in with_prefetch
    assert without["fhirAuthorization"]["token_type"] == "Bearer"
    assert without["fhirAuthorization"]["subject"] == "app"
    assert "prefetch" not in without
    assert with_prefetch["hookInstance"] != without["hookInstance"]


def test_prefetch_tokens_are_replaced_and_an_absent_one_leaves_the_key_out() -> None:
    context = {"patientId": "pt-1", "userId": "Practitioner/dr"}
    assert prefetch_query("Patient/{{context.patientId}}", context) == "Patient/pt-1"
    assert prefetch_query("Condition?patient={{ context.patientId }}", context) == (
        "Condition?patient=pt-1"
    )
    assert prefetch_query("Encounter/{{context.encounterId}}", context) is None
    assert prefetch_query("Patient/{{context.patientId}}", {"patientId": "a&b=c"}) == (
        "Patient/a%26b%3Dc"
    )


def test_the_form_is_checked_before_anything_is_sent() -> None:
    assert _order().problems() == []
    assert _order(cpt="99999").problems()
    assert _order(levels=()).problems()
    assert _order(levels=("L9-L10",)).problems()
    assert _order(cpt="62291").problems()  # a cervical code for lumbar discs
    assert levels_from_form(["L5-S1", "L4-L5", "L4-L5"]) == ("L4-L5", "L5-S1")
