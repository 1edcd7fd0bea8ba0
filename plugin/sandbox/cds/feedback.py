"""Card feedback from the sandbox EHR (CDS Hooks 2.0 §Feedback): the clinician accepts a card
(with the suggestions taken) or overrides it with one of its override reasons, and the EHR
tells the service at ``POST {services_url}/{id}/feedback``, signed like every other call.

The cards a service returned are kept here, in memory, under a random id the cards page puts
in a hidden field: the feedback form only names that id and positions in it, so a tampered form
can never report on a card, suggestion or reason the service did not send. The store is
bounded in size and age. Nothing here logs: the cards belong to a patient's chart."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from plugin.sandbox.cds.client import CALL_TIMEOUT, CdsCallError, outcome_text
from plugin.sandbox.cds.signing import CdsSigningKey
from plugin.sandbox.config import SandboxCdsClient

__all__ = [
    "MAX_COMMENT_LENGTH",
    "CardMemory",
    "FeedbackError",
    "FeedbackResult",
    "ReturnedCard",
    "ReturnedCards",
    "feedback_body",
    "feedback_url",
    "outcome_timestamp",
    "returned_cards",
    "send_feedback",
]

MAX_COMMENT_LENGTH = 1000


class FeedbackError(ValueError):
    """The feedback asked for is not one the returned card allows (tampered or stale form)."""


@dataclass(frozen=True, slots=True)
class ReturnedCard:
    """What feedback needs of one card, exactly as the service sent it."""

    uuid: str | None  # a card without a uuid cannot be given feedback
    summary: str
    override_reasons: tuple[Mapping[str, str], ...]  # Codings: system, code, display
    suggestion_ids: tuple[str, ...]  # the suggestions' uuids, in order
    suggestion_labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReturnedCards:
    """One service response's cards, in the order the cards page shows them."""

    service_id: str
    patient_id: str
    user_id: str
    cards: tuple[ReturnedCard, ...]
    kept_at: float


@dataclass(frozen=True, slots=True)
class FeedbackResult:
    status: int
    error: str | None  # the OperationOutcome text when the service refused the feedback


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _coding(value: Mapping[str, Any]) -> dict[str, str]:
    return {k: value[k] for k in ("system", "code", "display") if _text(value.get(k))}


def returned_cards(response: Mapping[str, Any]) -> tuple[ReturnedCard, ...]:
    """The response's cards (the same ones, in the same order, as `cards.card_views`)."""
    cards: list[ReturnedCard] = []
    for card in response.get("cards") or []:
        if not isinstance(card, dict):
            continue
        suggestions = [s for s in card.get("suggestions") or [] if isinstance(s, dict)]
        cards.append(
            ReturnedCard(
                uuid=_text(card.get("uuid")) or None,
                summary=_text(card.get("summary")),
                override_reasons=tuple(
                    _coding(r)
                    for r in card.get("overrideReasons") or []
                    if isinstance(r, dict) and _text(r.get("code"))
                ),
                suggestion_ids=tuple(_text(s.get("uuid")) for s in suggestions),
                suggestion_labels=tuple(_text(s.get("label")) for s in suggestions),
            )
        )
    return tuple(cards)


class CardMemory:
    """The last responses' cards, under random ids: at most `capacity` responses, each for
    `max_age` seconds (the oldest is forgotten first)."""

    def __init__(self, capacity: int = 64, max_age: float = 1800.0) -> None:
        self.capacity = capacity
        self.max_age = max_age
        self._kept: OrderedDict[str, ReturnedCards] = OrderedDict()

    def _forget_expired(self, now: float) -> None:
        for key in [k for k, v in self._kept.items() if now - v.kept_at > self.max_age]:
            del self._kept[key]

    def remember(
        self,
        service_id: str,
        patient_id: str,
        user_id: str,
        cards: Sequence[ReturnedCard],
        now: float,
    ) -> str:
        self._forget_expired(now)
        key = secrets.token_urlsafe(24)
        self._kept[key] = ReturnedCards(service_id, patient_id, user_id, tuple(cards), now)
        while len(self._kept) > self.capacity:
            self._kept.popitem(last=False)
        return key

    def lookup(self, key: str, now: float) -> ReturnedCards | None:
        """The cards kept under `key`, or None when unknown or expired."""
        self._forget_expired(now)
        return self._kept.get(key)

    def __len__(self) -> int:
        return len(self._kept)


def outcome_timestamp(now: datetime) -> str:
    """An instant with its time zone (a naive time is taken as UTC): ``...T14:30:00.123Z``."""
    moment = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def feedback_body(
    card: ReturnedCard,
    outcome: str,
    now: datetime,
    *,
    suggestions: Sequence[int] = (),
    reason: int | None = None,
    comment: str = "",
) -> dict[str, Any]:
    """The feedback for one card. `suggestions` and `reason` are positions in the card's own
    suggestions and override reasons. Raises FeedbackError for feedback the card does not
    allow."""
    if card.uuid is None:
        raise FeedbackError("This card has no uuid: the service cannot be told about it.")
    item: dict[str, Any] = {"card": card.uuid, "outcome": outcome}
    if outcome == "accepted":
        if reason is not None or comment:
            raise FeedbackError("An accepted card has no override reason.")
        chosen: list[str] = []
        for index in suggestions:
            if not 0 <= index < len(card.suggestion_ids) or not card.suggestion_ids[index]:
                raise FeedbackError("Choose one of the card's suggestions.")
            if card.suggestion_ids[index] not in chosen:
                chosen.append(card.suggestion_ids[index])
        if chosen:
            item["acceptedSuggestions"] = [{"id": ident} for ident in chosen]
    elif outcome == "overridden":
        if suggestions:
            raise FeedbackError("An overridden card has no accepted suggestion.")
        if reason is None or not 0 <= reason < len(card.override_reasons):
            raise FeedbackError("Choose one of the card's override reasons.")
        if len(comment) > MAX_COMMENT_LENGTH:
            raise FeedbackError(f"The comment is longer than {MAX_COMMENT_LENGTH} characters.")
        override: dict[str, Any] = {"reason": dict(card.override_reasons[reason])}
        if comment.strip():
            override["userComment"] = comment.strip()
        item["overrideReason"] = override
    else:
        raise FeedbackError("The outcome is accepted or overridden.")
    item["outcomeTimestamp"] = outcome_timestamp(now)
    return {"feedback": [item]}


def feedback_url(client: SandboxCdsClient, service_id: str) -> str:
    return f"{client.services_url}/{service_id}/feedback"


async def send_feedback(
    client: SandboxCdsClient,
    key: CdsSigningKey,
    service_id: str,
    body: Mapping[str, Any],
    now: datetime,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FeedbackResult:
    """POST the feedback with a fresh JWT whose `aud` is the feedback URL. Raises CdsCallError
    when the service cannot be reached."""
    url = feedback_url(client, service_id)
    headers = key.headers(client.issuer, url, now.timestamp())
    try:
        async with httpx.AsyncClient(
            transport=transport, timeout=CALL_TIMEOUT, follow_redirects=False
        ) as http:
            response = await http.post(url, json=dict(body), headers=headers)
    except httpx.HTTPError as exc:
        raise CdsCallError(f"The CDS service cannot be reached ({type(exc).__name__}).") from None
    if response.status_code == 200:
        return FeedbackResult(200, None)
    return FeedbackResult(response.status_code, outcome_text(response))
