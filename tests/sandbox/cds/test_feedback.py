"""Card feedback from the sandbox EHR (CDS Hooks 2.0 §Feedback): the body the app's own parser
accepts, its JWT the app's own verifier accepts for the exact feedback URL, and the
server-side memory of returned cards that the feedback form can only point into."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from plugin.cds_hooks.client_jwt import ClientJwtVerifier
from plugin.cds_hooks.client_keys import ClientKeys
from plugin.cds_hooks.errors import ClientUnauthorizedError
from plugin.cds_hooks.feedback import parse_feedback
from plugin.sandbox.cds.feedback import (
    CardMemory,
    FeedbackError,
    feedback_body,
    feedback_url,
    returned_cards,
    send_feedback,
)
from plugin.sandbox.cds.signing import CdsSigningKey
from plugin.sandbox.config import SandboxCdsClient
from smart_app.settings import CdsClientRegistration

ISS = "http://127.0.0.1:8000/fhir"
SERVICES = "http://127.0.0.1:8000/cds-services"
SERVICE = "discography-candidacy-order-sign"
CARD = "1b6f3a4e-2c1d-4e0a-9f3b-5d6c7e8f9a0b"
SUGGESTION = "7d2e1f0a-3b4c-4d5e-8f9a-0b1c2d3e4f5a"
REASON = {"system": "http://example.org/override", "code": "documented", "display": "Documented"}
RESPONSE = {
    "cards": [
        {
            "uuid": CARD,
            "summary": "Discography needs review",
            "suggestions": [{"label": "Order INR", "uuid": SUGGESTION}],
            "overrideReasons": [REASON, {"display": "no code"}],
        },
        "not a card",
        {"summary": "No uuid"},
    ]
}
NOW = datetime(2026, 11, 23, 15, 30, tzinfo=timezone(timedelta(hours=1)))


def test_returned_cards_keep_what_feedback_needs_in_card_order() -> None:
    first, second = returned_cards(RESPONSE)
    assert first.uuid == CARD and first.suggestion_ids == (SUGGESTION,)
    assert first.override_reasons == (REASON,)  # a reason without a code cannot be sent
    assert second.uuid is None


def test_an_override_body_is_what_the_app_parses() -> None:
    (card, _) = returned_cards(RESPONSE)
    body = feedback_body(card, "overridden", NOW, reason=0, comment="  Seen in clinic  ")
    (item,) = body["feedback"]
    assert item["outcomeTimestamp"] == "2026-11-23T14:30:00.000Z"
    assert item["overrideReason"] == {"reason": REASON, "userComment": "Seen in clinic"}
    (parsed,) = parse_feedback(body)
    assert parsed.card == CARD and parsed.outcome == "overridden"
    assert parsed.override_reason is not None and parsed.override_reason.code == "documented"
    assert parsed.outcome_timestamp == NOW.astimezone(UTC)


def test_an_accept_body_names_the_chosen_suggestions_by_their_ids() -> None:
    (card, _) = returned_cards(RESPONSE)
    body = feedback_body(card, "accepted", NOW, suggestions=[0, 0])
    assert body["feedback"][0]["acceptedSuggestions"] == [{"id": SUGGESTION}]
    (parsed,) = parse_feedback(body)
    assert parsed.outcome == "accepted" and parsed.accepted_suggestions == (SUGGESTION,)
    assert "acceptedSuggestions" not in feedback_body(card, "accepted", NOW)["feedback"][0]


@pytest.mark.parametrize(
    ("outcome", "options"),
    [
        ("accepted", {"suggestions": [1]}),
        ("accepted", {"reason": 0}),
        ("overridden", {"reason": 1}),
        ("overridden", {}),
        ("overridden", {"reason": 0, "comment": "x" * 1001}),
        ("overridden", {"reason": 0, "suggestions": [0]}),
        ("ignored", {}),
    ],
)
def test_feedback_the_card_does_not_allow_is_refused(outcome: str, options: dict) -> None:  # type: ignore[type-arg]
    (card, _) = returned_cards(RESPONSE)
    with pytest.raises(FeedbackError):
        feedback_body(card, outcome, NOW, **options)


def test_a_card_without_uuid_gets_no_feedback() -> None:
    (_, no_uuid) = returned_cards(RESPONSE)
    with pytest.raises(FeedbackError):
        feedback_body(no_uuid, "overridden", NOW, reason=0)


def test_the_memory_refuses_unknown_and_expired_ids_and_stays_bounded() -> None:
    memory = CardMemory(capacity=2, max_age=60)
    cards = returned_cards(RESPONSE)
    first = memory.remember(SERVICE, "pregnant", "doc", cards, now=1000.0)
    kept = memory.lookup(first, now=1030.0)
    assert kept is not None and kept.service_id == SERVICE and kept.cards == cards
    assert memory.lookup("x" * 32, now=1030.0) is None
    assert memory.lookup(first, now=1061.0) is None  # expired
    ids = [memory.remember(SERVICE, "p", "u", cards, now=2000.0 + i) for i in range(3)]
    assert len(memory) == 2 and memory.lookup(ids[0], now=2003.0) is None
    assert memory.lookup(ids[2], now=2003.0) is not None
    assert len(set(ids)) == 3 and all(len(i) >= 32 for i in ids)


async def test_the_feedback_jwt_is_for_the_exact_feedback_url(tmp_path: Path) -> None:
    key = CdsSigningKey.ensure(tmp_path / "cds-key.pem")
    client = SandboxCdsClient(services_url=SERVICES, issuer=ISS, signing_key_file=tmp_path / "k")
    url = feedback_url(client, SERVICE)
    assert url == f"{SERVICES}/{SERVICE}/feedback"
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(200)
        outcome = {"resourceType": "OperationOutcome", "issue": [{"details": {"text": "bad"}}]}
        return httpx.Response(400, json=outcome)

    now = datetime.now(UTC)
    (card, _) = returned_cards(RESPONSE)
    body = feedback_body(card, "overridden", now, reason=0)
    transport = httpx.MockTransport(answer)
    ok = await send_feedback(client, key, SERVICE, body, now, transport=transport)
    refused = await send_feedback(client, key, SERVICE, body, now, transport=transport)
    assert (ok.status, ok.error) == (200, None)
    assert (refused.status, refused.error) == (400, "bad")
    request = seen[0]
    assert str(request.url) == url and request.method == "POST"
    assert json.loads(request.content) == body

    jwks = key.write_public_jwks(tmp_path / "cds-jwks.json")
    clock = time.time
    keys = ClientKeys(httpx.AsyncClient(), clock, allow_plain_http=True)
    verifier = ClientJwtVerifier([CdsClientRegistration(iss=ISS, jwks_file=jwks)], keys, clock)
    verified = await verifier.verify(request.headers["authorization"], url)
    assert verified.iss == ISS
    with pytest.raises(ClientUnauthorizedError):  # the service endpoint's URL is another aud
        await verifier.verify(seen[1].headers["authorization"], f"{SERVICES}/{SERVICE}")
