"""The order the app was opened for: a CDS card's appContext or a fhirContext entry."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from plugin.cds_hooks.app_context import AppContext, app_context_text
from plugin.study.levels import Region
from smart_app.fhir_client import FhirClient, RetryPolicy, StaticTokenSource
from smart_app.scopes import LaunchKind
from smart_app.session import SmartSession
from smart_app.tokens import parse_token_response
from smart_app.workflow.draft_order import draft_order_reference, read_draft_order

BASE = "https://ehr.example.org/fhir"


def session(**changes: Any) -> SmartSession:
    values: dict[str, Any] = {
        "iss": BASE,
        "ehr_name": "EHR",
        "launch_kind": LaunchKind.EHR,
        "patient": "p1",
        "granted_scope": "launch patient/*.rs",
        "access_token": SecretStr("a"),
        "csrf_token": SecretStr("c"),
    }
    return SmartSession(**(values | changes))


def test_the_token_response_carries_the_cards_app_context() -> None:
    text = app_context_text(
        AppContext("discography-order-sign", "order-sign", "h1", "ServiceRequest/sr-9")
    )
    token = parse_token_response(
        {"access_token": "a", "token_type": "Bearer", "patient": "p1", "appContext": text}, "EHR"
    )
    assert token.app_context == text
    # One the app cannot use never stops a launch.
    odd = parse_token_response(
        {"access_token": "a", "token_type": "Bearer", "appContext": {"an": "object"}}, "EHR"
    )
    assert odd.app_context is None


def test_app_context_first_then_fhir_context() -> None:
    context = app_context_text(AppContext("svc", "order-select", "h1", "ServiceRequest/sr-9"))
    assert draft_order_reference(session(app_context=context)) == "sr-9"
    fhir_context = [{"reference": f"{BASE}/ServiceRequest/sr-7"}]
    assert draft_order_reference(session(fhir_context=fhir_context)) == "sr-7"
    assert (
        draft_order_reference(session(app_context="not ours", fhir_context=fhir_context)) == "sr-7"
    )
    assert draft_order_reference(session(fhir_context=[{"reference": "Encounter/e1"}])) is None
    assert draft_order_reference(session()) is None


@pytest.fixture
async def client() -> AsyncIterator[FhirClient]:
    async with httpx.AsyncClient() as http:
        yield FhirClient(
            BASE, StaticTokenSource("t"), http, policy=RetryPolicy.for_app(max_attempts=1)
        )


async def test_a_discography_order_gives_region_and_levels(client: FhirClient) -> None:
    order = {
        "resourceType": "ServiceRequest",
        "id": "sr-9",
        "status": "draft",
        "intent": "order",
        "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "62290"}]},
        "bodySite": [{"coding": [{"system": "http://snomed.info/sct", "code": "84020006"}]}],
        "subject": {"reference": "Patient/p1"},
    }
    with respx.mock(base_url=BASE) as ehr:
        ehr.get("/ServiceRequest/sr-9").respond(json=order)
        ehr.get("/ServiceRequest/other").respond(
            json={**order, "id": "other", "code": {"text": "MRI"}}
        )
        ehr.get("/ServiceRequest/gone").respond(
            404, json={"resourceType": "OperationOutcome", "issue": []}
        )
        found = await read_draft_order(client, "sr-9")
        assert found.order is not None and found.order.region is Region.LUMBAR
        assert found.order.levels == ("L4-L5",)
        assert (await read_draft_order(client, "other")).problem == "it is not a discography order"
        missing = await read_draft_order(client, "gone")
        assert missing.order is None and missing.problem and "could not be read" in missing.problem
