"""The cards the service returned, as far as feedback on them is checked (CDS Hooks 2.0
§Feedback: feedback is about cards, and their suggestions, that the service returned).

Each returned card is remembered (`FeedbackStore.remember_cards`) with the service and client
it went to, its suggestions' uuids and the override reasons it offered — never its text, so
nothing kept says which patient it was about — for `CARD_RETENTION_SECONDS`. Feedback is
checked against it: an unknown or forgotten card, another service's or client's card, a
suggestion the card did not have, an override reason it did not offer, or a time before the
card was returned are each a 400 naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from plugin.cds_hooks.feedback import CLOCK_SKEW_SECONDS, FeedbackItem, canonical_uuid
from plugin.errors import Problem

__all__ = [
    "CARD_RETENTION_SECONDS",
    "ReturnedCard",
    "canonical_uuid",
    "cards_returned",
    "feedback_problems",
]

#: How long a returned card can be given feedback. Clinicians act on a card within the
#: ordering session (minutes), but an EHR may queue feedback and send it in batches or after an
#: outage; 30 days covers that with a wide margin while the table stays one row per recent card.
CARD_RETENTION_SECONDS = 30 * 86400.0


@dataclass(frozen=True, slots=True)
class ReturnedCard:
    uuid: str  # canonical (`canonical_uuid`)
    service_id: str
    client_iss: str
    suggestions: frozenset[str]  # canonical uuids
    override_reasons: frozenset[tuple[str | None, str]]  # (system, code) offered
    issued_at: float  # seconds since the epoch


def _uuids(values: Sequence[Any]) -> frozenset[str]:
    found = (canonical_uuid(v) for v in values if isinstance(v, str))
    return frozenset(v for v in found if v is not None)


def cards_returned(
    response: Mapping[str, Any], *, service_id: str, client_iss: str, now: float
) -> list[ReturnedCard]:
    """The cards of one response that can be given feedback (those with a uuid)."""
    returned: list[ReturnedCard] = []
    for card in response.get("cards") or ():
        card_uuid = canonical_uuid(card["uuid"]) if isinstance(card.get("uuid"), str) else None
        if card_uuid is None:
            continue
        suggestions = [s.get("uuid") for s in card.get("suggestions") or ()]
        reasons = frozenset(
            (coding.get("system"), coding["code"]) for coding in card.get("overrideReasons") or ()
        )
        returned.append(
            ReturnedCard(card_uuid, service_id, client_iss, _uuids(suggestions), reasons, now)
        )
    return returned


def _reason_offered(card: ReturnedCard, system: str | None, code: str | None) -> bool:
    # A Coding without its system is matched by code alone: the codes we offer are unique.
    return any(
        code == offered_code and (system is None or system == offered_system)
        for offered_system, offered_code in card.override_reasons
    )


def feedback_problems(
    items: Sequence[FeedbackItem],
    returned: Mapping[str, ReturnedCard],
    *,
    service_id: str,
    client_iss: str,
) -> list[Problem]:
    """What in the feedback is not about a card this service returned to this client.
    `returned` holds the remembered cards by canonical uuid."""
    problems: list[Problem] = []
    for index, item in enumerate(items):
        path = f"feedback[{index}]"
        card = returned.get(canonical_uuid(item.card) or "")
        if card is None or card.service_id != service_id or card.client_iss != client_iss:
            # One answer whether the card never existed, was another's or was forgotten:
            # nothing tells a client about cards it was not sent.
            problems.append(
                Problem(
                    f"{path}.card",
                    "returned-card",
                    "is not a card this service returned to this client in the last "
                    f"{CARD_RETENTION_SECONDS / 86400:.0f} days",
                )
            )
            continue
        for position, suggestion in enumerate(item.accepted_suggestions):
            if canonical_uuid(suggestion) not in card.suggestions:
                problems.append(
                    Problem(
                        f"{path}.acceptedSuggestions[{position}].id",
                        "returned-suggestion",
                        "is not the uuid of one of the card's suggestions",
                    )
                )
        reason = item.override_reason
        if (
            reason is not None
            and reason.code is not None
            and not _reason_offered(card, reason.system, reason.code)
        ):
            problems.append(
                Problem(
                    f"{path}.overrideReason.reason",
                    "offered-reason",
                    "is not one of the card's overrideReasons",
                )
            )
        if item.outcome_timestamp.timestamp() < card.issued_at - CLOCK_SKEW_SECONDS:
            problems.append(
                Problem(
                    f"{path}.outcomeTimestamp",
                    "after-card",
                    "is before the card was returned: the card was not acted on then",
                )
            )
    return problems
