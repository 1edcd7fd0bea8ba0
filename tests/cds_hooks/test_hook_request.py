from __future__ import annotations

import copy
from typing import Any

import pytest

from plugin.cds_hooks.errors import CdsRequestInvalidError
from plugin.cds_hooks.hook_request import Hook, parse_hook_request, parse_json_body
from tests.cds_hooks.conftest import PATIENT_ID, discography_order, hook_call, other_order


def problems_of(body: Any, hook: Hook = Hook.ORDER_SIGN, **kw: Any) -> dict[str, str]:
    with pytest.raises(CdsRequestInvalidError) as caught:
        parse_hook_request(body, hook, **kw)
    return {p.field: p.rule for p in caught.value.problems}


def test_order_sign_call_is_read() -> None:
    call = parse_hook_request(hook_call(fhir=True), Hook.ORDER_SIGN)
    assert call.context.patient_id == PATIENT_ID
    assert call.context.selections is None
    assert call.fhir_server == "https://ehr.example.org/fhir"
    assert call.fhir_authorization is not None
    assert "opaque" not in repr(call.fhir_authorization)  # the token never reaches a log
    assert [d["id"] for d in call.context.draft_orders] == ["draft-1"]


@pytest.mark.parametrize("bundle_type", ["collection", None])
def test_draft_orders_with_or_without_bundle_type(bundle_type: str | None) -> None:
    call = parse_hook_request(hook_call(bundle_type=bundle_type), Hook.ORDER_SIGN)
    assert len(call.context.draft_orders) == 1


def test_order_select_selections_point_into_draft_orders() -> None:
    call = parse_hook_request(
        hook_call("order-select", [discography_order(), other_order()]), Hook.ORDER_SELECT
    )
    assert call.context.selections == ("ServiceRequest/draft-1",)
    body = hook_call("order-select", selections=["ServiceRequest/elsewhere"])
    assert problems_of(body, Hook.ORDER_SELECT) == {"context.selections[0]": "in-draft-orders"}
    body["context"]["selections"] = None
    assert problems_of(body, Hook.ORDER_SELECT) == {"context.selections": "not-null"}
    body["context"]["selections"] = []
    assert problems_of(body, Hook.ORDER_SELECT) == {"context.selections": "type"}


def test_order_select_without_selections_is_valid() -> None:
    # Hook library order-select 1.0: selections is optional (requirement row 86).
    body = hook_call("order-select")
    del body["context"]["selections"]
    assert parse_hook_request(body, Hook.ORDER_SELECT).context.selections is None


def test_hook_must_match_the_service() -> None:
    assert problems_of(hook_call("order-select"), Hook.ORDER_SIGN) == {"hook": "hook-mismatch"}


def test_missing_and_mistyped_fields_are_each_named() -> None:
    body = hook_call()
    body["hookInstance"] = "not-a-uuid"
    body["context"]["userId"] = "Patient/123"
    body["context"]["patientId"] = 7
    del body["context"]["draftOrders"]
    assert problems_of(body) == {
        "hookInstance": "uuid",
        "context.userId": "user-reference",
        "context.patientId": "type",
        "context.draftOrders": "required",
    }


def test_missing_context_and_non_object_bodies() -> None:
    body = hook_call()
    del body["context"]
    assert problems_of(body) == {"context": "required"}
    assert problems_of([1, 2]) == {"": "type"}
    assert problems_of({"hook": None}) == {
        "hook": "not-null",
        "hookInstance": "required",
        "context": "required",
    }


def test_draft_orders_must_be_a_bundle_of_resources() -> None:
    body = hook_call()
    body["context"]["draftOrders"] = {
        "resourceType": "Bundle",
        "entry": [{"resource": {"id": "x"}}, 3],
    }
    assert problems_of(body) == {
        "context.draftOrders.entry[0].resource.resourceType": "required",
        "context.draftOrders.entry[1]": "type",
    }
    body["context"]["draftOrders"] = {"resourceType": "Patient"}
    assert problems_of(body) == {"context.draftOrders.resourceType": "bundle"}


def test_fhir_authorization_requires_fhir_server() -> None:
    # cds-r-1
    body = hook_call(fhir=True)
    del body["fhirServer"]
    assert problems_of(body) == {"fhirServer": "required"}


def test_fhir_authorization_fields_are_checked() -> None:
    body = hook_call(fhir=True)
    body["fhirAuthorization"].update(token_type="MAC", expires_in="300", access_token="")
    del body["fhirAuthorization"]["subject"]
    assert problems_of(body) == {
        "fhirAuthorization.token_type": "bearer",
        "fhirAuthorization.expires_in": "type",
        "fhirAuthorization.access_token": "not-empty",
        "fhirAuthorization.subject": "required",
    }


def test_token_for_another_patient_is_refused() -> None:
    body = hook_call(fhir=True)
    body["fhirAuthorization"]["patient"] = "someone-else"
    assert problems_of(body) == {"fhirAuthorization.patient": "same-patient"}


def test_fhir_server_must_be_https() -> None:
    body = hook_call(fhir=True)
    body["fhirServer"] = "http://ehr.example.org/fhir"
    assert problems_of(body) == {"fhirServer": "https"}
    body["fhirServer"] = "http://127.0.0.1:8000/fhir"
    assert problems_of(body) == {"fhirServer": "https"}
    call = parse_hook_request(copy.deepcopy(body), Hook.ORDER_SIGN, allow_plain_http_loopback=True)
    assert call.fhir_server == "http://127.0.0.1:8000/fhir"
    body["fhirServer"] = "https://ehr.example.org/fhir?x=1"
    assert problems_of(body) == {"fhirServer": "url"}


def test_unknown_context_fields_are_ignored() -> None:
    body = hook_call()
    body["context"]["somethingNew"] = {"a": 1}
    body["extension"] = {"org.example.flag": True}
    assert parse_hook_request(body, Hook.ORDER_SIGN).context.patient_id == PATIENT_ID


def test_prefetch_must_be_an_object() -> None:
    body = hook_call()
    body["prefetch"] = ["x"]
    assert problems_of(body) == {"prefetch": "type"}


def test_tokens_from_the_context() -> None:
    body = hook_call()
    body["context"]["encounterId"] = "enc-1"
    tokens = parse_hook_request(body, Hook.ORDER_SIGN).context.prefetch_tokens()
    assert tokens == {
        "patientId": PATIENT_ID,
        "userId": "Practitioner/dr-1",
        "encounterId": "enc-1",
    }


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff\xfe", b"[1,"])
def test_body_that_is_not_json(raw: bytes) -> None:
    with pytest.raises(CdsRequestInvalidError) as caught:
        parse_json_body(raw)
    assert caught.value.problems[0].rule == "json"


def test_extension_must_be_an_object() -> None:
    body = hook_call()
    body["extension"] = "org.example.flag"
    assert problems_of(body) == {"extension": "type"}


def test_a_body_that_is_not_json_is_located_but_not_quoted() -> None:
    with pytest.raises(CdsRequestInvalidError) as caught:
        parse_json_body(b'{"hook": "order-sign",\n "secret-patient-name": }')
    message = caught.value.problems[0].message
    assert "line 2" in message
    assert "secret" not in message


def test_a_body_in_another_encoding_than_utf8_is_not_json() -> None:
    with pytest.raises(CdsRequestInvalidError) as caught:
        parse_json_body('{"hook": "order-sign"}'.encode("utf-16"))
    assert caught.value.problems[0].rule == "json"
