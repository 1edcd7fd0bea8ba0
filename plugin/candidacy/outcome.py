"""The outcome from the criteria and safety items, by the policy's outcome rules
(shared/clinical.md §4 "Outcome (product default)"): not-candidate first, then needs-review,
otherwise candidate — with the reasons that decided it and a one-line summary.
"""

from __future__ import annotations

from collections.abc import Sequence

from plugin.candidacy.assessment import (
    CriterionAssessment,
    Outcome,
    OutcomeReason,
    SafetyItem,
)
from plugin.candidacy.phrases import listing
from plugin.candidacy.policy import OutcomeRule, OutcomeRules

__all__ = ["decide_outcome"]


def decide_outcome(
    rules: OutcomeRules,
    criteria: Sequence[CriterionAssessment],
    safety: Sequence[SafetyItem],
) -> tuple[Outcome, tuple[OutcomeReason, ...], str]:
    """(outcome, the reasons behind it, a one-line summary)."""
    for outcome, rule in (
        (Outcome.NOT_CANDIDATE, rules.not_candidate),
        (Outcome.NEEDS_REVIEW, rules.needs_review),
    ):
        reasons = _reasons(rule, criteria, safety)
        if reasons:
            return outcome, reasons, _summary(outcome, reasons, criteria, safety)
    return Outcome.CANDIDATE, (), _summary(Outcome.CANDIDATE, (), criteria, safety)


def _reasons(
    rule: OutcomeRule, criteria: Sequence[CriterionAssessment], safety: Sequence[SafetyItem]
) -> tuple[OutcomeReason, ...]:
    found = [
        OutcomeReason(source="criterion", id=c.id, detail=c.status.value)
        for c in criteria
        if c.status.value in rule.criterion_status
    ]
    found.extend(
        OutcomeReason(source="safety", id=s.id, detail=s.severity.value)
        for s in safety
        if s.severity.value in rule.safety_severity
    )
    return tuple(found)


_HEADLINE = {
    Outcome.CANDIDATE: "Candidate",
    Outcome.NOT_CANDIDATE: "Not a candidate",
    Outcome.NEEDS_REVIEW: "Needs review",
}


def _summary(
    outcome: Outcome,
    reasons: Sequence[OutcomeReason],
    criteria: Sequence[CriterionAssessment],
    safety: Sequence[SafetyItem],
) -> str:
    if outcome is Outcome.CANDIDATE:
        return f"Candidate: all {len(criteria)} criteria met, no safety item needs action."
    titles = {c.id: c.title for c in criteria} | {s.id: s.title for s in safety}
    by_detail: dict[str, list[str]] = {}
    for reason in reasons:
        by_detail.setdefault(reason.detail, []).append(titles[reason.id])
    words = {
        "not-met": "not met",
        "unknown": "unknown",
        "contraindication": "contraindicated",
        "action": "needs action",
    }
    parts = [f"{listing(names)} {words[detail]}" for detail, names in by_detail.items()]
    return f"{_HEADLINE[outcome]}: {'; '.join(parts)}."
