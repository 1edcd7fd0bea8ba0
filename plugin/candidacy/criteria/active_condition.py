"""No active infection: no active matching condition, and no recent course of the listed
drug classes left unexplained (method ``no-active-condition``; shared/clinical.md §4,
Anthem CG-SURG-29).

An active infection is an absolute contraindication: not met. A systemic antibiotic taken in
the last N days with no infection on the problem list is unknown — the physician must review
why it was given (a course for a treated infection that is over, or one still active).
"""

from __future__ import annotations

from datetime import timedelta

from plugin.candidacy.assessment import CriterionAssessment, CriterionStatus
from plugin.candidacy.chart import reference_of
from plugin.candidacy.context import AssessmentContext
from plugin.candidacy.evidence import course_evidence, evidence
from plugin.candidacy.phrases import listing, named
from plugin.candidacy.policy import NoActiveConditionCriterion

__all__ = ["assess_active_condition"]


def assess_active_condition(
    context: AssessmentContext, criterion: NoActiveConditionCriterion
) -> CriterionAssessment:
    today = context.today
    active = [
        c
        for c in context.current_conditions(criterion.conditions)
        if not criterion.not_counted.matches_text(*context.texts_of(c))
    ]
    if active:
        return CriterionAssessment(
            id=criterion.id,
            title=criterion.title,
            status=CriterionStatus.NOT_MET,
            explanation=f"{listing(named(c) for c in active)} is active on the problem list "
            "(an absolute contraindication).",
            evidence=tuple(evidence(c, value="active") for c in active),
            resolve="Re-assess once the infection has resolved.",
        )
    window = criterion.recent_drug_window_days
    since = today - timedelta(days=window)
    recent = [
        course
        for course in context.courses_of(criterion.recent_drug_classes)
        if (last := course.last_day(today)) is not None and last >= since
    ]
    if recent:
        names = listing(sorted({f"{c.label} ({reference_of(c.resource)})" for c in recent}))
        return CriterionAssessment(
            id=criterion.id,
            title=criterion.title,
            status=CriterionStatus.UNKNOWN,
            explanation=f"No infection is on the problem list, but {names} was taken in the "
            f"last {window} days (since {since.isoformat()}).",
            evidence=tuple(course_evidence(c) for c in recent),
            resolve="Review why the antibiotic was given and confirm there is no active infection.",
        )
    lookback = f" and no antibiotic course in the last {window} days" if window else ""
    return CriterionAssessment(
        id=criterion.id,
        title=criterion.title,
        status=CriterionStatus.MET,
        explanation=f"No active infection is on the problem list{lookback}.",
    )
