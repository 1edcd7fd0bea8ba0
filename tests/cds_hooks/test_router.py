"""The CDS Hooks endpoints over HTTP, in-process: discovery, both hooks with and without
prefetch, the error statuses with their OperationOutcomes, CORS, JWT on every call, feedback."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import respx

from plugin.candidacy import default_policy
from plugin.candidacy.policy_file import policy_path
from plugin.cds_hooks.candidacy_service import CandidacyService
from plugin.cds_hooks.chart_queries import chart_queries
from plugin.cds_hooks.extension import CANDIDACY_EXTENSION_URL
from plugin.cds_hooks.invariants import response_problems
from plugin.cds_hooks.router import build_runtime
from smart_app.settings import Settings
from tests.cds_hooks.charts import sandbox_chart
from tests.cds_hooks.conftest import (
    FHIR_SERVER,
    PATIENT_ID,
    SELECT,
    SIGN,
    AppFactory,
    CdsApp,
    discography_order,
    hook_call,
    other_order,
)
from tests.cds_hooks.fake_fhir import FakeFhirServer

QUERIES = chart_queries(default_policy())
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def fake_for(cds: CdsApp, patient: str = "on-apixaban", page_size: int = 50) -> FakeFhirServer:
    today = datetime.fromtimestamp(cds.clock(), UTC).date()
    return FakeFhirServer(
        FHIR_SERVER, sandbox_chart(patient, today, as_patient=PATIENT_ID), page_size=page_size
    )


def outcome_issues(response: httpx.Response) -> list[dict[str, Any]]:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    issues: list[dict[str, Any]] = body["issue"]
    return issues


async def test_discovery_lists_both_services_with_prefetch(cds: CdsApp) -> None:
    response = await cds.discovery()
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    services = {s["id"]: s for s in response.json()["services"]}
    assert {s["hook"] for s in services.values()} == {"order-select", "order-sign"}
    for service in services.values():
        assert service["description"] and service["title"]
        assert service["prefetch"]["patient"] == "Patient/{{context.patientId}}"
        assert set(service["prefetch"]) == {q.key for q in QUERIES}


@pytest.mark.parametrize(("service", "hook"), [(SIGN, "order-sign"), (SELECT, "order-select")])
async def test_each_hook_with_full_prefetch(cds: CdsApp, service: str, hook: str) -> None:
    prefetch = fake_for(cds).prefetch(QUERIES, PATIENT_ID)
    response = await cds.call(service, hook_call(hook, prefetch=prefetch))
    assert response.status_code == 200, response.text
    body = response.json()
    assert response_problems(body) == []
    (card,) = body["cards"]
    assert card["indicator"] == "warning" and "apixaban" in card["detail"]
    (action,) = body["systemActions"]
    assert action["resource"]["extension"][0]["url"] == CANDIDACY_EXTENSION_URL
    assert response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(("service", "hook"), [(SIGN, "order-sign"), (SELECT, "order-select")])
async def test_each_hook_without_prefetch_reads_fhir_server(
    cds: CdsApp, service: str, hook: str
) -> None:
    fake = fake_for(cds, page_size=7)
    with respx.mock(assert_all_called=True) as mock:
        mock.route(url__startswith=FHIR_SERVER).mock(side_effect=fake.handler)
        response = await cds.call(service, hook_call(hook, fhir=True))
    assert response.status_code == 200, response.text
    assert response_problems(response.json()) == []
    assert "apixaban" in response.json()["cards"][0]["detail"]


def _without_uuids(text: str) -> str:
    return UUID.sub("<uuid>", text)


async def test_prefetched_and_fetched_charts_give_byte_identical_cards(cds: CdsApp) -> None:
    fake = fake_for(cds, "egfr-25", page_size=3)
    by_prefetch = await cds.call(SIGN, hook_call(prefetch=fake.prefetch(QUERIES, PATIENT_ID)))
    with respx.mock() as mock:
        mock.route(url__startswith=FHIR_SERVER).mock(side_effect=fake.handler)
        by_fetch = await cds.call(SIGN, hook_call(fhir=True))
    assert by_prefetch.status_code == by_fetch.status_code == 200
    assert _without_uuids(by_prefetch.text) == _without_uuids(by_fetch.text)
    assert by_prefetch.json()["cards"][0]["uuid"] != by_fetch.json()["cards"][0]["uuid"]


async def test_other_orders_get_no_cards_and_no_chart_is_read(cds: CdsApp) -> None:
    response = await cds.call(SIGN, hook_call(drafts=[other_order()]))
    assert response.status_code == 200
    assert response.json() == {"cards": []}


async def test_no_data_either_way_is_412(cds: CdsApp) -> None:
    response = await cds.call(SIGN, hook_call())
    assert response.status_code == 412
    (issue,) = outcome_issues(response)
    assert issue["code"] == "incomplete"


async def test_system_action_is_the_draft_plus_the_extension_only(cds: CdsApp) -> None:
    draft = discography_order(
        extension=[{"url": "https://ehr.example.org/x", "valueString": "keep"}]
    )
    prefetch = fake_for(cds).prefetch(QUERIES, PATIENT_ID)
    body = (await cds.call(SIGN, hook_call(drafts=[draft], prefetch=prefetch))).json()
    updated = body["systemActions"][0]["resource"]
    added = updated["extension"].pop()
    assert added["url"] == CANDIDACY_EXTENSION_URL
    assert updated == draft


async def test_attestations_on_the_order_are_taken_into_account(cds: CdsApp) -> None:
    attested = {
        "url": CANDIDACY_EXTENSION_URL,
        "extension": [
            {"url": "attestation", "valueCode": "imaging-inconclusive"},
            {"url": "attestation", "valueCode": "decision-hinges"},
        ],
    }
    prefetch = fake_for(cds, "lumbar-candidate").prefetch(QUERIES, PATIENT_ID)
    drafts = [discography_order(levels=("L3-L4", "L4-L5", "L5-S1"), extension=[attested])]
    card = (await cds.call(SIGN, hook_call(drafts=drafts, prefetch=prefetch))).json()["cards"][0]
    assert card["indicator"] == "info"
    plain = (await cds.call(SIGN, hook_call(prefetch=prefetch))).json()["cards"][0]
    assert plain["indicator"] == "warning"


async def test_order_with_contradicting_levels_gets_a_correction_card(cds: CdsApp) -> None:
    draft = discography_order(levels=("C5-C6",))
    response = await cds.call(SIGN, hook_call(drafts=[draft]))
    assert response.status_code == 200  # no chart needed to say so
    (card,) = response.json()["cards"]
    assert card["summary"].startswith("Discography order cannot be assessed")


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"[]", b'"text"', b"null", json.dumps({"hook": "order-sign"}).encode()],
)
async def test_garbage_is_400_with_an_operation_outcome(cds: CdsApp, body: bytes) -> None:
    response = await cds.call(SIGN, body)
    assert response.status_code == 400
    assert outcome_issues(response)


async def test_wrong_types_and_missing_context_are_400_naming_the_field(cds: CdsApp) -> None:
    body = hook_call()
    body["context"]["patientId"] = ["pt-1"]
    body["hookInstance"] = 42
    response = await cds.call(SIGN, body)
    assert response.status_code == 400
    fields = {i["expression"][0] for i in outcome_issues(response)}
    assert fields == {"context.patientId", "hookInstance"}
    del body["context"]
    response = await cds.call(SIGN, body)
    assert {i["expression"][0] for i in outcome_issues(response)} >= {"context"}


async def test_hook_sent_to_the_other_service_is_400(cds: CdsApp) -> None:
    response = await cds.call(SELECT, hook_call("order-sign"))
    assert response.status_code == 400


async def test_malformed_prefetch_is_400(cds: CdsApp) -> None:
    response = await cds.call(SIGN, hook_call(prefetch={"patient": [1]}))
    assert response.status_code == 400
    assert outcome_issues(response)[0]["expression"] == ["prefetch.patient"]


async def test_prefetch_of_another_patient_is_400(cds: CdsApp) -> None:
    today = datetime.fromtimestamp(cds.clock(), UTC).date()
    other = FakeFhirServer(FHIR_SERVER, sandbox_chart("pregnant", today))
    prefetch = other.prefetch(QUERIES, "pregnant")
    response = await cds.call(SIGN, hook_call(prefetch=prefetch))
    assert response.status_code == 400


async def test_unknown_service_is_404(cds: CdsApp) -> None:
    response = await cds.call("no-such-service", hook_call())
    assert response.status_code == 404
    assert outcome_issues(response)[0]["code"] == "not-found"
    feedback = await cds.feedback("no-such-service", {"feedback": []})
    assert feedback.status_code == 404


@pytest.mark.parametrize(
    "path", ["/cds-services", f"/cds-services/{SIGN}", f"/cds-services/{SIGN}/feedback"]
)
async def test_cors_preflight(cds: CdsApp, path: str) -> None:
    response = await cds.http.options(
        path,
        headers={
            "Origin": "https://sandbox.cds-hooks.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "POST" in response.headers["access-control-allow-methods"]


async def test_every_endpoint_refuses_a_missing_or_bad_jwt_with_a_bare_401(cds: CdsApp) -> None:
    responses = [
        await cds.http.get("/cds-services"),
        await cds.http.post(f"/cds-services/{SIGN}", json=hook_call()),
        await cds.http.post(f"/cds-services/{SIGN}/feedback", json={"feedback": []}),
        await cds.http.get("/cds-services", headers=cds.auth(f"/cds-services/{SIGN}")),  # aud
        await cds.http.post(
            f"/cds-services/{SIGN}",
            json=hook_call(),
            headers=cds.auth("/cds-services", alg="RS256"),
        ),
    ]
    for response in responses:
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["access-control-allow-origin"] == "*"
        assert outcome_issues(response) == [
            {"severity": "error", "code": "login", "diagnostics": "Authentication failed."}
        ]


async def test_replayed_token_is_401(cds: CdsApp) -> None:
    headers = cds.auth("/cds-services")
    assert (await cds.http.get("/cds-services", headers=headers)).status_code == 200
    assert (await cds.http.get("/cds-services", headers=headers)).status_code == 401


async def test_jwt_is_checked_before_the_body(cds: CdsApp) -> None:
    response = await cds.http.post(f"/cds-services/{SIGN}", content=b"{garbage")
    assert response.status_code == 401


async def test_feedback_is_recorded_once(cds: CdsApp) -> None:
    call = await cds.call(SIGN, hook_call(prefetch=fake_for(cds).prefetch(QUERIES, PATIENT_ID)))
    item = {
        "card": call.json()["cards"][0]["uuid"],
        "outcome": "overridden",
        "overrideReason": {"userComment": "Discussed with the surgeon"},
        "outcomeTimestamp": datetime.fromtimestamp(cds.clock(), UTC).isoformat(),
    }
    first = await cds.feedback(SIGN, {"feedback": [item]})
    second = await cds.feedback(SIGN, {"feedback": [item]})
    assert first.status_code == second.status_code == 200
    assert first.headers["access-control-allow-origin"] == "*"
    records = await cds.app.state.cds_runtime.feedback.records()
    assert len(records) == 1 and records[0].service_id == SIGN
    bad = await cds.feedback(SIGN, {"feedback": [{**item, "outcome": "maybe"}]})
    assert bad.status_code == 400


async def test_settings_allowlist_can_add_rs256(make_app: AppFactory) -> None:
    cds = await make_app(algorithms=["ES384", "RS384", "RS256"])
    response = await cds.http.get("/cds-services", headers=cds.auth("/cds-services", alg="RS256"))
    assert response.status_code == 200


async def test_an_unexpected_failure_is_a_500_outcome_not_a_traceback(
    cds: CdsApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(CandidacyService, "answer", broken)
    response = await cds.call(SIGN, hook_call())
    assert response.status_code == 500
    assert "boom" not in response.text


async def test_answers_are_json_objects(cds: CdsApp) -> None:
    for response in (
        await cds.discovery(),
        await cds.call(SIGN, hook_call(drafts=[other_order()])),
        await cds.call(SIGN, b"{"),
        await cds.http.get("/cds-services"),
    ):
        assert response.headers["content-type"] == "application/json"
        assert isinstance(response.json(), dict)


@pytest.mark.parametrize(
    "extension", [5, [{"url": CANDIDACY_EXTENSION_URL, "extension": 5}]], ids=["int", "ours-int"]
)
async def test_malformed_draft_extension_is_400_not_500(cds: CdsApp, extension: Any) -> None:
    order = discography_order()
    order["extension"] = extension
    response = await cds.call(SIGN, hook_call(drafts=[order]))
    assert response.status_code == 400
    [issue] = outcome_issues(response)
    assert issue["expression"][0].startswith("context.draftOrders.entry[0].resource.extension")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/cds-services", "GET, OPTIONS"),
        ("POST", "/cds-services", "GET, OPTIONS"),
        ("DELETE", "/cds-services", "GET, OPTIONS"),
        ("GET", f"/cds-services/{SIGN}", "POST, OPTIONS"),
        ("PATCH", f"/cds-services/{SIGN}", "POST, OPTIONS"),
        ("GET", f"/cds-services/{SIGN}/feedback", "POST, OPTIONS"),
    ],
)
async def test_other_methods_are_405_with_allow_outcome_and_cors(
    cds: CdsApp, method: str, path: str, allow: str
) -> None:
    response = await cds.http.request(method, path, headers=cds.auth(path))
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.headers["access-control-allow-origin"] == "*"
    assert outcome_issues(response)[0]["code"] == "not-supported"


async def test_the_services_assess_on_the_sites_calendar_day(
    tmp_path: Path, sqlite_connections_closed: None
) -> None:
    runtime = build_runtime(Settings(data_dir=tmp_path, timezone="America/Chicago"))
    try:
        assert runtime.service.zone == ZoneInfo("America/Chicago")
    finally:
        await runtime.aclose()


async def test_the_services_assess_with_the_sites_candidacy_policy(
    tmp_path: Path, sqlite_connections_closed: None
) -> None:
    # The same file the SMART app reads (`candidacy_policy_file`): one referral rule for both.
    policy = json.loads(policy_path().read_text(encoding="utf-8"))
    policy["version"] = "1.1.0-site"
    policy["end_unknown_recent_days"] = 60
    site = tmp_path / "site-policy.json"
    site.write_text(json.dumps(policy), encoding="utf-8")
    runtime = build_runtime(Settings(data_dir=tmp_path, candidacy_policy_file=site))
    try:
        used = runtime.service.policy
        assert (used.id, used.version, used.end_unknown_recent_days) == (
            "discography-referral",
            "1.1.0-site",
            60,
        )
    finally:
        await runtime.aclose()
