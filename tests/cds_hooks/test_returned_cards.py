"""Feedback is about cards the service returned (CDS Hooks 2.0 §Feedback): each answer's cards
are remembered in the database and feedback is checked against them."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from plugin.candidacy import default_policy
from plugin.cds_hooks.chart_queries import chart_queries
from plugin.cds_hooks.feedback import FeedbackItem
from plugin.cds_hooks.returned_cards import (
    CARD_RETENTION_SECONDS,
    ReturnedCard,
    cards_returned,
    feedback_problems,
)
from tests.cds_hooks.conftest import (
    PATIENT_ID,
    SELECT,
    SIGN,
    AppFactory,
    CdsApp,
    hook_call,
)
from tests.conftest import on_database

QUERIES = chart_queries(default_policy())
CARD = "4e0a3a1e-3283-4575-ab82-028d55fe2719"


def _no_labs_prefetch() -> dict[str, Any]:
    # Nothing in the chart: a warning card with override reasons and lab suggestions.
    prefetch: dict[str, Any] = {q.key: None for q in QUERIES}
    prefetch["patient"] = {
        "resourceType": "Patient",
        "id": PATIENT_ID,
        "gender": "female",
        "birthDate": "1980-01-01",
    }
    return prefetch


async def _card(cds: CdsApp) -> dict[str, Any]:
    response = await cds.call(SIGN, hook_call(prefetch=_no_labs_prefetch()))
    assert response.status_code == 200
    card: dict[str, Any] = response.json()["cards"][0]
    assert card.get("suggestions") and card.get("overrideReasons")
    return card


def _at(cds: CdsApp, seconds: float = 0.0) -> str:
    return datetime.fromtimestamp(cds.clock() + seconds, UTC).isoformat()


def _overridden(cds: CdsApp, card: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {
        "card": card["uuid"],
        "outcome": "overridden",
        "overrideReason": {"reason": dict(card["overrideReasons"][0])},
        "outcomeTimestamp": _at(cds),
        **changes,
    }


async def _refused(cds: CdsApp, service: str, item: dict[str, Any]) -> dict[str, str]:
    response = await cds.feedback(service, {"feedback": [item]})
    assert response.status_code == 400, response.text
    issues = response.json()["issue"]
    return {issue["expression"][0]: issue["details"]["text"] for issue in issues}


async def test_feedback_on_a_returned_card_is_recorded(cds: CdsApp) -> None:
    card = await _card(cds)
    accepted = {
        "card": card["uuid"],
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
        "outcomeTimestamp": _at(cds),
    }
    for item in (accepted, _overridden(cds, card, outcomeTimestamp=_at(cds, 60))):
        assert (await cds.feedback(SIGN, {"feedback": [item]})).status_code == 200
    assert len(await cds.app.state.cds_runtime.feedback.records()) == 2


async def test_feedback_on_cards_not_returned_is_400_naming_the_field(cds: CdsApp) -> None:
    card = await _card(cds)
    never = {**_overridden(cds, card), "card": str(uuid.uuid4())}
    assert await _refused(cds, SIGN, never) == {"feedback[0].card": "returned-card"}
    assert await _refused(cds, SELECT, _overridden(cds, card)) == {
        "feedback[0].card": "returned-card"
    }
    made_up = {
        "card": card["uuid"],
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": "not-a-suggestion"}],
        "outcomeTimestamp": _at(cds),
    }
    assert await _refused(cds, SIGN, made_up) == {
        "feedback[0].acceptedSuggestions[0].id": "returned-suggestion"
    }
    not_offered = _overridden(
        cds, card, overrideReason={"reason": {"system": "http://evil", "code": "made-up"}}
    )
    assert await _refused(cds, SIGN, not_offered) == {
        "feedback[0].overrideReason.reason": "offered-reason"
    }
    before = _overridden(cds, card, outcomeTimestamp=_at(cds, -3600))
    assert await _refused(cds, SIGN, before) == {"feedback[0].outcomeTimestamp": "after-card"}
    assert await cds.app.state.cds_runtime.feedback.records() == []


def test_another_clients_card_is_unknown_to_this_client() -> None:
    card = ReturnedCard(CARD, SIGN, "https://ehr-a.example", frozenset(), frozenset(), 0.0)
    item = FeedbackItem(CARD, "overridden", (), None, datetime.fromtimestamp(10.0, UTC))
    problems = feedback_problems(
        [item], {CARD: card}, service_id=SIGN, client_iss="https://ehr-b.example"
    )
    assert [(p.field, p.rule) for p in problems] == [("feedback[0].card", "returned-card")]
    assert (
        feedback_problems([item], {CARD: card}, service_id=SIGN, client_iss=card.client_iss) == []
    )


async def test_cards_are_forgotten_after_the_retention(cds: CdsApp) -> None:
    card = await _card(cds)
    cds.clock.now += CARD_RETENTION_SECONDS + 1
    assert await _refused(cds, SIGN, _overridden(cds, card)) == {
        "feedback[0].card": "returned-card"
    }


async def test_every_worker_knows_the_cards_another_returned(make_app: AppFactory) -> None:
    answering: CdsApp = await make_app()
    other: CdsApp = await make_app()  # another process on the same database
    card = await _card(answering)
    assert (await other.feedback(SIGN, {"feedback": [_overridden(other, card)]})).status_code == 200


async def test_a_later_different_outcome_is_kept_and_becomes_the_cards(cds: CdsApp) -> None:
    # Accepted, then dismissed: two interactions, both kept; the later gives the outcome.
    card = await _card(cds)
    accepted = {
        "card": card["uuid"],
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
        "outcomeTimestamp": _at(cds, 60),
    }
    overridden = _overridden(cds, card)  # earlier, sent after
    for item in (accepted, overridden, accepted):
        assert (await cds.feedback(SIGN, {"feedback": [item]})).status_code == 200
    store = cds.app.state.cds_runtime.feedback
    assert len(await store.records(card["uuid"])) == 2
    latest = await store.card_outcome(card["uuid"])
    assert latest is not None and latest.outcome == "accepted"


def test_only_cards_with_a_uuid_are_remembered() -> None:
    response = {
        "cards": [
            {"summary": "no uuid"},
            {
                "uuid": "URN:UUID:4E0A3A1E-3283-4575-AB82-028D55FE2719".lower(),
                "suggestions": [{"uuid": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
                "overrideReasons": [{"system": "https://x.example", "code": "c"}],
            },
        ]
    }
    (card,) = cards_returned(response, service_id=SIGN, client_iss="iss", now=1.0)
    assert card.uuid == "4e0a3a1e-3283-4575-ab82-028d55fe2719"
    assert card.override_reasons == {("https://x.example", "c")}


async def test_a_card_not_remembered_still_answers_the_call(
    cds: CdsApp, caplog: pytest.LogCaptureFixture
) -> None:
    # Guidance is never withheld because the feedback bookkeeping failed: here a real database
    # error, the table of remembered cards gone after the first call migrated the database.
    assert (await cds.call(SIGN, hook_call(prefetch=_no_labs_prefetch()))).status_code == 200
    database_url = cds.app.state.cds_runtime.settings.database_url
    await on_database(database_url, lambda c: c.execute(text("drop table cds_returned_cards")))
    with caplog.at_level(logging.WARNING, logger="plugin.cds_hooks.feedback_store"):
        response = await cds.call(SIGN, hook_call(prefetch=_no_labs_prefetch()))
    assert response.status_code == 200 and response.json()["cards"]
    assert "returned CDS cards not remembered: OperationalError" in caplog.text
