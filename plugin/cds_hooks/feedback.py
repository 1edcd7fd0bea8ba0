"""Feedback on our cards (CDS Hooks 2.0 §Feedback), read and checked (pure).

``{"feedback": [{card, outcome, acceptedSuggestions?, overrideReason?, outcomeTimestamp}]}``:
`card` is the card's uuid; `outcome` accepted | overridden (cds-fb-1); an accepted card names
the suggestions taken (cds-fb-2); an override reason holds a reason Coding, a user comment or
both (cds-fb-3), its userComment at most `MAX_USER_COMMENT_LENGTH` characters; the timestamp is
an RFC 3339 date-time with a time zone (CDS Hooks 2.0 profiles ISO 8601 by RFC 3339 §5.6), not
more than `CLOCK_SKEW_SECONDS` ahead of our clock — an action is reported after it is taken.

The same card may be reported more than once. The same report sent again (a retry) is one
record: `FeedbackItem.key` identifies it. A different report on the same card is a distinct
end-user interaction, which the spec asks clients to report faithfully ("a card once ignored
could later be acted upon"; a user may accept a suggestion, then dismiss the card): each is
kept, and the card's outcome is the report with the latest outcomeTimestamp
(`FeedbackStore.card_outcome`). Whether the card, its suggestions and reasons are ones the
service returned is checked against the cards remembered (`returned_cards`).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from plugin.cds_hooks.errors import CdsRequestInvalidError
from plugin.errors import Problem

__all__ = [
    "CLOCK_SKEW_SECONDS",
    "MAX_USER_COMMENT_LENGTH",
    "OUTCOMES",
    "FeedbackItem",
    "OverrideReason",
    "canonical_uuid",
    "parse_feedback",
]

OUTCOMES = ("accepted", "overridden")
#: A clinician's note on why a card was dismissed: a few paragraphs at most. The bound keeps one
#: report from filling the database (the sandbox EHR allows 1000).
MAX_USER_COMMENT_LENGTH = 4000
#: How far ahead of our clock an outcomeTimestamp may be (the client's clock may run ahead).
CLOCK_SKEW_SECONDS = 300.0
# RFC 3339 §5.6 date-time, ASCII digits only (Python's ISO reader also takes week dates).
_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


@dataclass(frozen=True, slots=True)
class OverrideReason:
    system: str | None
    code: str | None
    display: str | None
    user_comment: str | None


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    card: str
    outcome: str
    accepted_suggestions: tuple[str, ...]
    override_reason: OverrideReason | None
    outcome_timestamp: datetime  # in UTC

    def key(self, client_iss: str, service_id: str) -> str:
        """The identity of this report: the same feedback sent again has the same key."""
        reason = self.override_reason
        identity = [
            client_iss,
            service_id,
            self.card,
            self.outcome,
            sorted(self.accepted_suggestions),
            [reason.system, reason.code, reason.user_comment] if reason else None,
            self.outcome_timestamp.isoformat(),
        ]
        text = json.dumps(identity, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_uuid(value: str) -> str | None:
    """The lower-case hyphenated form of a uuid, with or without ``urn:uuid:``; None when
    `value` is not one."""
    try:
        return str(uuid.UUID(value.removeprefix("urn:uuid:")))
    except ValueError:
        return None


def _uuid(value: Any) -> bool:
    return isinstance(value, str) and canonical_uuid(value) is not None


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or _DATE_TIME.fullmatch(value) is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is before the first representable UTC
        return None


def _nulls(data: Mapping[str, Any], path: str, problems: list[Problem]) -> set[str]:
    """The members of `data` sent as JSON null, each a problem: CDS Hooks (like FHIR JSON)
    leaves an absent value out rather than sending null."""
    found = {name for name, value in data.items() if value is None}
    problems.extend(
        Problem(f"{path}.{name}", "not-null", "must not be null (leave the field out instead)")
        for name in sorted(found)
    )
    return found


def _optional_text(
    data: Mapping[str, Any], name: str, path: str, problems: list[Problem]
) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem(path, "type", "must be a non-empty string"))
        return None
    return value


def _override_reason(value: Any, path: str, problems: list[Problem]) -> OverrideReason | None:
    if not isinstance(value, dict):
        problems.append(Problem(path, "type", "must be an object"))
        return None
    before = len(problems)
    _nulls(value, path, problems)
    reason = value.get("reason")
    system = code = display = None
    if reason is not None:
        if not isinstance(reason, dict):
            problems.append(Problem(f"{path}.reason", "type", "must be a Coding object"))
        else:
            _nulls(reason, f"{path}.reason", problems)
            system = _optional_text(reason, "system", f"{path}.reason.system", problems)
            code = _optional_text(reason, "code", f"{path}.reason.code", problems)
            display = _optional_text(reason, "display", f"{path}.reason.display", problems)
            if code is None and "code" not in reason:
                problems.append(Problem(f"{path}.reason.code", "required", "is required"))
    comment = _optional_text(value, "userComment", f"{path}.userComment", problems)
    if comment is not None and len(comment) > MAX_USER_COMMENT_LENGTH:
        problems.append(
            Problem(
                f"{path}.userComment",
                "max-length",
                f"must be at most {MAX_USER_COMMENT_LENGTH} characters",
            )
        )
    if "reason" not in value and "userComment" not in value:
        problems.append(Problem(path, "cds-fb-3", "must hold a reason, a userComment, or both"))
    if len(problems) > before:
        return None
    return OverrideReason(system, code, display, comment)


def _item(value: Any, path: str, problems: list[Problem], now: float) -> FeedbackItem | None:
    if not isinstance(value, dict):
        problems.append(Problem(path, "type", "must be an object"))
        return None
    before = len(problems)
    nulls = _nulls(value, path, problems)  # each reported once, as null
    card = value.get("card")
    if not _uuid(card) and "card" not in nulls:
        problems.append(Problem(f"{path}.card", "uuid", "must be the card's uuid"))
    outcome = value.get("outcome")
    if outcome not in OUTCOMES and "outcome" not in nulls:
        problems.append(Problem(f"{path}.outcome", "cds-fb-1", "must be accepted or overridden"))
    accepted: list[str] = []
    suggestions = value.get("acceptedSuggestions")
    if suggestions is not None:
        if not isinstance(suggestions, list):
            problems.append(Problem(f"{path}.acceptedSuggestions", "type", "must be an array"))
        else:
            for index, suggestion in enumerate(suggestions):
                ident = suggestion.get("id") if isinstance(suggestion, dict) else None
                if not isinstance(ident, str) or not ident.strip():
                    problems.append(
                        Problem(
                            f"{path}.acceptedSuggestions[{index}].id",
                            "required",
                            "must be the suggestion's uuid",
                        )
                    )
                else:
                    accepted.append(ident)
    if outcome == "accepted" and not accepted and "acceptedSuggestions" not in value:
        problems.append(
            Problem(
                f"{path}.acceptedSuggestions",
                "cds-fb-2",
                "is required when the outcome is accepted",
            )
        )
    elif outcome == "accepted" and not accepted and isinstance(suggestions, list):
        problems.append(
            Problem(f"{path}.acceptedSuggestions", "cds-fb-2", "must name at least one suggestion")
        )
    reason = None
    if value.get("overrideReason") is not None:
        reason = _override_reason(value["overrideReason"], f"{path}.overrideReason", problems)
    timestamp = _timestamp(value.get("outcomeTimestamp"))
    if timestamp is None and "outcomeTimestamp" not in nulls:
        problems.append(
            Problem(
                f"{path}.outcomeTimestamp",
                "instant",
                "must be an RFC 3339 date-time with a time zone, e.g. 2026-11-23T14:30:00Z",
            )
        )
    elif timestamp is not None and timestamp.timestamp() > now + CLOCK_SKEW_SECONDS:
        problems.append(
            Problem(
                f"{path}.outcomeTimestamp",
                "not-future",
                "is in the future: it is when the card was acted on",
            )
        )
    if len(problems) > before:
        return None
    assert isinstance(card, str) and isinstance(outcome, str) and timestamp is not None
    return FeedbackItem(card, outcome, tuple(accepted), reason, timestamp)


def parse_feedback(data: Any, *, now: float | None = None) -> tuple[FeedbackItem, ...]:
    """The feedback items of a decoded body, received at `now` (seconds since the epoch; the
    router passes its clock, default the system's); every problem raised together (400)."""
    if now is None:
        now = time.time()
    if not isinstance(data, dict):
        raise CdsRequestInvalidError(
            [Problem("", "type", "the feedback must be a JSON object")], "CDS Hooks feedback"
        )
    items = data.get("feedback")
    if not isinstance(items, list) or not items:
        raise CdsRequestInvalidError(
            [Problem("feedback", "required", "must be a non-empty array of feedback")],
            "CDS Hooks feedback",
        )
    problems: list[Problem] = []
    parsed = [_item(item, f"feedback[{index}]", problems, now) for index, item in enumerate(items)]
    if problems:
        raise CdsRequestInvalidError(problems, "CDS Hooks feedback")
    return tuple(item for item in parsed if item is not None)
