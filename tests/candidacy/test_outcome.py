"""The outcome rules: not-candidate first, then needs-review, otherwise candidate."""

from __future__ import annotations

from plugin.candidacy import (
    CriterionAssessment,
    CriterionStatus,
    Outcome,
    SafetyItem,
    SafetyKind,
    Severity,
)
from plugin.candidacy.outcome import decide_outcome
from plugin.candidacy.policy import OutcomeRule, OutcomeRules
from plugin.candidacy.policy_file import default_policy

RULES = default_policy().outcome


def criterion(cid: str, status: str) -> CriterionAssessment:
    return CriterionAssessment(
        id=cid, title=cid.title(), status=CriterionStatus(status), explanation="."
    )


def item(iid: str, severity: str) -> SafetyItem:
    return SafetyItem(
        id=iid,
        kind=SafetyKind.ALLERGY,
        severity=Severity(severity),
        title=iid.title(),
        explanation=".",
    )


def test_all_met_and_only_information_is_a_candidate() -> None:
    outcome, reasons, summary = decide_outcome(RULES, [criterion("a", "met")], [item("x", "info")])
    assert (outcome, reasons) == (Outcome.CANDIDATE, ())
    assert summary == "Candidate: all 1 criteria met, no safety item needs action."


def test_not_met_wins_over_unknown_and_action() -> None:
    outcome, reasons, summary = decide_outcome(
        RULES,
        [criterion("a", "not-met"), criterion("b", "unknown")],
        [item("x", "action")],
    )
    assert outcome is Outcome.NOT_CANDIDATE
    assert [(r.source, r.id, r.detail) for r in reasons] == [("criterion", "a", "not-met")]
    assert summary == "Not a candidate: A not met."


def test_a_contraindication_alone_is_not_candidate() -> None:
    outcome, reasons, _ = decide_outcome(
        RULES, [criterion("a", "met")], [item("x", "contraindication")]
    )
    assert outcome is Outcome.NOT_CANDIDATE
    assert [(r.source, r.id) for r in reasons] == [("safety", "x")]


def test_unknowns_and_actions_need_review_and_are_listed() -> None:
    outcome, reasons, summary = decide_outcome(
        RULES, [criterion("a", "unknown"), criterion("b", "unknown")], [item("x", "action")]
    )
    assert outcome is Outcome.NEEDS_REVIEW
    assert len(reasons) == 3
    assert summary == "Needs review: A and B unknown; X needs action."


def test_a_site_may_make_unknown_criteria_disqualifying() -> None:
    strict = OutcomeRules(
        not_candidate=OutcomeRule(
            criterion_status=("not-met", "unknown"), safety_severity=("contraindication",)
        ),
        needs_review=OutcomeRule(safety_severity=("action",)),
    )
    outcome, _, _ = decide_outcome(strict, [criterion("a", "unknown")], [])
    assert outcome is Outcome.NOT_CANDIDATE
