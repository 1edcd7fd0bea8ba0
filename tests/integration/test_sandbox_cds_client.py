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
