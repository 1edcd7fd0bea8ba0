"""The sandbox EHR as a CDS Hooks client of the app it hosts, in-process: the EHR page's
discography order goes through the real JWT check, discovery, prefetch or fhirServer reads,
and the real candidacy services; the cards come back rendered on the EHR page."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from plugin.cds_hooks.app_context import read_app_context
from plugin.cds_hooks.feedback_store import FeedbackRecord, FeedbackStore
from plugin.cli.sandbox import build_sandbox, prepare_sandbox
from plugin.sandbox.app import sandbox_of
from plugin.sandbox.asgi import lifespan
from plugin.sandbox.ehr.csrf import CSRF_COOKIE

pytestmark = pytest.mark.integration

BASE = "http://127.0.0.1:8000"
CSRF = "c" * 40


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    return build_sandbox(prepare_sandbox(tmp_path, 8000))


@pytest.fixture
async def ehr(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url=BASE, cookies={CSRF_COOKIE: CSRF}
        ) as http:
            yield http


async def _order(http: httpx.AsyncClient, patient: str, *, prefetch: bool) -> str:
    response = await http.post(
        "/ehr/orders/cds",
        data={
            "csrf_token": CSRF,
            "patient": patient,
            "user": "spine-proceduralist",
            "cpt": "62290",
            "level": ["L4-L5", "L5-S1"],
            "hook": "order-sign",
            "prefetch": "yes" if prefetch else "no",
        },
    )
    assert response.status_code == 200, response.text
    return response.text


def _indicators(page: str) -> list[str]:
    return re.findall(r'<article class="card card-(\w+)">', page)


@pytest.mark.parametrize("prefetch", [True, False], ids=["prefetch", "fhirServer"])
async def test_order_sign_cards_for_a_candidate_and_a_pregnant_patient(
    ehr: httpx.AsyncClient, prefetch: bool
) -> None:
    candidate = await _order(ehr, "lumbar-candidate", prefetch=prefetch)
    pregnant = await _order(ehr, "pregnant", prefetch=prefetch)

    # No attestation has been given yet (they are the physician's, in the app), so the
    # scenario's candidate is "needs review" — a warning naming what to attest.
    assert _indicators(candidate) == ["warning"]
    assert "Discography needs review" in candidate
    assert "discography-candidacy-order-sign" in candidate
    assert _indicators(pregnant)[0] == "critical"
    assert "Critical</span>" in pregnant  # the indicator is spelled out, not colour alone
    # The card's SMART link launches the app through the EHR launch, with its appContext.
    assert 'action="/ehr/launch"' in candidate
    assert 'name="app_context"' in candidate


async def test_the_card_link_launches_the_app_with_its_app_context(
    ehr: httpx.AsyncClient, app: FastAPI
) -> None:
    page = await _order(ehr, "lumbar-candidate", prefetch=True)
    (app_context,) = {
        html.unescape(v) for v in re.findall(r'name="app_context" value="([^"]*)"', page)
    }
    launched = await ehr.post(
        "/ehr/launch",
        data={
            "csrf_token": CSRF,
            "patient": "lumbar-candidate",
            "user": "spine-proceduralist",
            "app_context": app_context,
        },
    )
    assert launched.status_code == 303
    launch_id = launched.headers["location"].rsplit("/", 1)[1]
    launch = sandbox_of(app).records.launch(launch_id)
    assert launch is not None and launch.app_context == app_context
    assert (read_app_context(app_context).draft_order or "").startswith("ServiceRequest/")


async def test_both_ways_of_sending_the_chart_give_the_same_cards(ehr: httpx.AsyncClient) -> None:
    def summaries(page: str) -> list[str]:
        return [html.unescape(s) for s in re.findall(r'<h3 class="summary">(.*?)</h3>', page)]

    with_prefetch = await _order(ehr, "pregnant", prefetch=True)
    without = await _order(ehr, "pregnant", prefetch=False)
    assert summaries(with_prefetch) == summaries(without)
    assert summaries(with_prefetch)


async def test_the_order_form_is_csrf_checked_and_offered_per_patient(
    ehr: httpx.AsyncClient,
) -> None:
    home = await ehr.get("/ehr")
    assert 'formaction="/ehr/orders/new"' in home.text
    form = {"csrf_token": CSRF, "patient": "pregnant", "user": "spine-proceduralist"}
    page = await ehr.post("/ehr/orders/new", data=form)
    assert page.status_code == 200
    assert 'name="level" value="L4-L5" checked' in page.text
    stale = await ehr.post("/ehr/orders/new", data={**form, "csrf_token": "x" * 40})
    assert stale.status_code == 403
    mismatched = await ehr.post(
        "/ehr/orders/cds",
        data={**form, "cpt": "62291", "level": ["L4-L5"], "hook": "order-select"},
    )
    assert mismatched.status_code == 400 and "does not cover" in mismatched.text


def _feedback_forms(page: str) -> list[dict[str, object]]:
    """Each card's feedback forms: the hidden fields, the suggestions and reasons offered."""
    forms = []
    for form in re.findall(
        r'<form method="post" action="/ehr/orders/feedback".*?</form>', page, re.S
    ):
        hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form))
        forms.append(
            {
                **{k: html.unescape(v) for k, v in hidden.items()},
                "suggestions": re.findall(r'name="suggestion" value="(\d+)"', form),
                "reasons": re.findall(r'<option value="(\d+)">\s*(.*?)</option>', form),
            }
        )
    return forms


async def _stored_feedback(tmp_path: Path) -> list[FeedbackRecord]:
    store = FeedbackStore(f"sqlite+aiosqlite:///{tmp_path / 'app.sqlite3'}")
    try:
        return await store.records()
    finally:
        await store.dispose()


async def test_feedback_on_the_cards_is_recorded_by_the_service(
    ehr: httpx.AsyncClient, app: FastAPI, tmp_path: Path
) -> None:
    page = await _order(ehr, "pregnant", prefetch=True)
    assert _indicators(page)[0] == "critical"
    forms = _feedback_forms(page)
    override = next(f for f in forms if f["outcome"] == "overridden" and f["card"] == "0")
    reason = override["reasons"][0][0]  # type: ignore[index]
    answer = await ehr.post(
        "/ehr/orders/feedback",
        data={
            "csrf_token": CSRF,
            "cards": override["cards"],
            "card": "0",
            "outcome": "overridden",
            "reason": reason,
            "comment": "Discussed with the patient <b>today</b>",
        },
    )
    assert answer.status_code == 200, answer.text
    assert "HTTP status 200" in answer.text
    assert "&lt;b&gt;today&lt;/b&gt;" in answer.text  # the comment is shown escaped
    (overridden,) = await _stored_feedback(tmp_path)
    assert overridden.outcome == "overridden"
    assert overridden.service_id == "discography-candidacy-order-sign"
    assert overridden.override_code and overridden.override_system
    assert overridden.override_comment == "Discussed with the patient <b>today</b>"
    assert overridden.outcome_timestamp.endswith("+00:00")

    # A card with no suggestion cannot be "accepted" (CDS Hooks 2.0 §Feedback: acceptedSuggestions
    # is required for accepted outcomes): the page offers no Accept for it, and a hand-made
    # form is refused by the service, the page saying why.
    assert not any(f["outcome"] == "accepted" and f["card"] == "0" for f in forms)
    refused = await ehr.post(
        "/ehr/orders/feedback",
        data={
            "csrf_token": CSRF,
            "cards": override["cards"],
            "card": "0",
            "outcome": "accepted",
        },
    )
    assert refused.status_code == 200 and "HTTP status 400" in refused.text
    assert "cds-fb-2" in refused.text  # the OperationOutcome text
    assert len(await _stored_feedback(tmp_path)) == 1

    # An INR that cannot be read makes the service suggest repeating it: accept that suggestion.
    sandbox = sandbox_of(app)
    inr = await sandbox.store.read("Observation", "pregnant-lab-03")
    assert inr is not None
    unreadable = {k: v for k, v in inr.body.items() if not k.startswith("value")}
    unreadable["dataAbsentReason"] = {"text": "haemolysed sample"}
    async with sandbox.store.transaction() as writer:
        await writer.put(unreadable, "pregnant", sandbox.now())
    page = await _order(ehr, "pregnant", prefetch=True)
    accept = next(
        f for f in _feedback_forms(page) if f["outcome"] == "accepted" and f["suggestions"]
    )
    answer = await ehr.post(
        "/ehr/orders/feedback",
        data={
            "csrf_token": CSRF,
            "cards": accept["cards"],
            "card": accept["card"],
            "outcome": "accepted",
            "suggestion": accept["suggestions"][0],  # type: ignore[index]
        },
    )
    assert answer.status_code == 200 and "HTTP status 200" in answer.text, answer.text
    accepted = [r for r in await _stored_feedback(tmp_path) if r.outcome == "accepted"]
    assert len(accepted) == 1 and len(accepted[0].accepted_suggestions) == 1
    assert accepted[0].card_uuid != overridden.card_uuid


async def test_feedback_forms_cannot_name_cards_the_service_never_returned(
    ehr: httpx.AsyncClient, tmp_path: Path
) -> None:
    page = await _order(ehr, "pregnant", prefetch=True)
    override = next(f for f in _feedback_forms(page) if f["outcome"] == "overridden")
    good = {
        "csrf_token": CSRF,
        "cards": override["cards"],
        "card": override["card"],
        "outcome": "overridden",
        "reason": "0",
    }
    for tampered in (
        {"cards": "x" * 32},  # an id the sandbox never gave
        {"card": "99"},
        {"card": "-1"},
        {"reason": "99"},
        {"outcome": "accepted", "suggestion": "99"},
        {"outcome": "ignored"},
    ):
        answer = await ehr.post("/ehr/orders/feedback", data={**good, **tampered})
        assert answer.status_code == 400, tampered
    stale = await ehr.post("/ehr/orders/feedback", data={**good, "csrf_token": "x" * 40})
    assert stale.status_code == 403
    assert await _stored_feedback(tmp_path) == []
    assert (await ehr.post("/ehr/orders/feedback", data=good)).status_code == 200
    assert len(await _stored_feedback(tmp_path)) == 1
