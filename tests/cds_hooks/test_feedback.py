from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from plugin.cds_hooks.errors import CdsRequestInvalidError
from plugin.cds_hooks.feedback import MAX_USER_COMMENT_LENGTH, parse_feedback

CARD = "4e0a3a1e-3283-4575-ab82-028d55fe2719"
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC).timestamp()


def accepted(**changes: Any) -> dict[str, Any]:
    item = {
        "card": CARD,
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
        "outcomeTimestamp": "2026-11-23T14:30:00Z",
    }
    item.update(changes)
    return {k: v for k, v in item.items() if v is not None}


def rules(body: Any) -> dict[str, str]:
    with pytest.raises(CdsRequestInvalidError) as caught:
        parse_feedback(body, now=NOW)
    return {p.field: p.rule for p in caught.value.problems}


def test_accepted_and_overridden_feedback() -> None:
    overridden = {
        "card": CARD,
        "outcome": "overridden",
        "overrideReason": {
            "reason": {"system": "https://x", "code": "clinical-judgement", "display": "Judgement"},
            "userComment": "Seen by the spine team",
        },
        "outcomeTimestamp": "2026-11-23T15:30:00+01:00",
    }
    first, second = parse_feedback({"feedback": [accepted(), overridden]}, now=NOW)
    assert first.accepted_suggestions == ("e56e1945-20b3-4393-8503-a1a20fd73152",)
    assert (
        second.override_reason is not None and second.override_reason.code == "clinical-judgement"
    )
    assert second.outcome_timestamp.isoformat() == "2026-11-23T14:30:00+00:00"
    bare = parse_feedback(
        {
            "feedback": [
                {"card": CARD, "outcome": "overridden", "outcomeTimestamp": "2026-11-23T14:30:00Z"}
            ]
        },
        now=NOW,
    )
    assert bare[0].override_reason is None


def test_outcome_enum() -> None:
    # cds-fb-1
    assert rules({"feedback": [accepted(outcome="ignored")]}) == {"feedback[0].outcome": "cds-fb-1"}


def test_accepted_needs_suggestions() -> None:
    # cds-fb-2
    assert rules({"feedback": [accepted(acceptedSuggestions=None)]}) == {
        "feedback[0].acceptedSuggestions": "cds-fb-2"
    }
    assert "feedback[0].acceptedSuggestions" in rules(
        {"feedback": [accepted(acceptedSuggestions=[])]}
    )
    assert rules({"feedback": [accepted(acceptedSuggestions=[{"uuid": "x"}])]}) == {
        "feedback[0].acceptedSuggestions[0].id": "required",
        "feedback[0].acceptedSuggestions": "cds-fb-2",
    }


def test_override_reason_needs_reason_or_comment() -> None:
    # cds-fb-3
    body = {
        "feedback": [accepted(outcome="overridden", acceptedSuggestions=None, overrideReason={})]
    }
    assert rules(body) == {"feedback[0].overrideReason": "cds-fb-3"}
    body["feedback"][0]["overrideReason"] = {"reason": {"system": "https://x"}}
    assert rules(body) == {"feedback[0].overrideReason.reason.code": "required"}


def test_card_and_timestamp() -> None:
    assert rules({"feedback": [accepted(card="card-1", outcomeTimestamp="yesterday")]}) == {
        "feedback[0].card": "uuid",
        "feedback[0].outcomeTimestamp": "instant",
    }
    assert rules({"feedback": [accepted(outcomeTimestamp="2026-11-23T14:30:00")]}) == {
        "feedback[0].outcomeTimestamp": "instant"  # no time zone
    }


@pytest.mark.parametrize("body", [[], {"feedback": []}, {"feedback": {}}, {"x": 1}, "text"])
def test_body_shape(body: Any) -> None:
    with pytest.raises(CdsRequestInvalidError):
        parse_feedback(body, now=NOW)


def test_same_report_has_the_same_key() -> None:
    (one,) = parse_feedback({"feedback": [accepted()]}, now=NOW)
    (same,) = parse_feedback(
        {"feedback": [accepted(outcomeTimestamp="2026-11-23T15:30:00+01:00")]}, now=NOW
    )
    (other,) = parse_feedback(
        {"feedback": [accepted(outcomeTimestamp="2026-11-23T14:31:00Z")]}, now=NOW
    )
    assert one.key("iss", "svc") == same.key("iss", "svc")
    assert one.key("iss", "svc") != other.key("iss", "svc")
    assert one.key("iss", "svc") != one.key("iss", "other-svc")


@pytest.mark.parametrize("timestamp", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_timestamp_beyond_the_representable_range_is_400_instant(timestamp: str) -> None:
    assert rules({"feedback": [accepted(outcomeTimestamp=timestamp)]}) == {
        "feedback[0].outcomeTimestamp": "instant"
    }


def test_null_is_refused_wherever_it_is_sent() -> None:
    # CDS Hooks 2.0: JSON elements SHALL NOT be null; an override reason of nulls says nothing.
    overridden = accepted(outcome="overridden", acceptedSuggestions=None)
    body = {"feedback": [{**overridden, "overrideReason": {"userComment": None}}]}
    assert rules(body) == {"feedback[0].overrideReason.userComment": "not-null"}
    body = {"feedback": [{**overridden, "overrideReason": {"reason": None, "userComment": "x"}}]}
    assert rules(body) == {"feedback[0].overrideReason.reason": "not-null"}
    coding = {"code": None, "system": "https://x"}
    body = {"feedback": [{**overridden, "overrideReason": {"reason": coding}}]}
    assert rules(body) == {"feedback[0].overrideReason.reason.code": "not-null"}
    body = {"feedback": [{**accepted(), "acceptedSuggestions": None, "outcomeTimestamp": None}]}
    assert rules(body) == {
        "feedback[0].acceptedSuggestions": "not-null",
        "feedback[0].outcomeTimestamp": "not-null",
    }
    body = {"feedback": [{**overridden, "overrideReason": None, "card": None}]}
    assert rules(body) == {
        "feedback[0].card": "not-null",
        "feedback[0].overrideReason": "not-null",
    }


def test_user_comment_is_bounded() -> None:
    # A 2 MB comment was stored as sent.
    long = {"userComment": "x" * (MAX_USER_COMMENT_LENGTH + 1)}
    body = {"feedback": [accepted(outcome="overridden", acceptedSuggestions=None)]}
    body["feedback"][0]["overrideReason"] = long
    assert rules(body) == {"feedback[0].overrideReason.userComment": "max-length"}
    body["feedback"][0]["overrideReason"] = {"userComment": "x" * MAX_USER_COMMENT_LENGTH}
    assert parse_feedback(body, now=NOW)[0].override_reason is not None


def test_outcome_timestamp_is_not_in_the_future() -> None:
    # An action is reported after it is taken; a few minutes of clock skew are allowed.
    assert rules({"feedback": [accepted(outcomeTimestamp="2099-01-01T00:00:00Z")]}) == {
        "feedback[0].outcomeTimestamp": "not-future"
    }
    assert parse_feedback(
        {"feedback": [accepted(outcomeTimestamp="2026-11-23T15:04:00Z")]}, now=NOW
    )


@pytest.mark.parametrize(
    "stamp",
    ["2026-W47-1T14:30:00Z", "\uff12026-11-23T14:30:00Z", "2026-11-23T14:30Z", "20261123T143000Z"],
)
def test_outcome_timestamp_is_an_rfc3339_date_time(stamp: str) -> None:
    assert rules({"feedback": [accepted(outcomeTimestamp=stamp)]}) == {
        "feedback[0].outcomeTimestamp": "instant"
    }
