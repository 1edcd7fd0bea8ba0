"""No active infection: no active matching condition, and no recent course of the listed
drug classes left unexplained (method ``no-active-condition``; shared/clinical.md §4,
Anthem CG-SURG-29).

An active infection is an absolute contraindication: not met — only when the chart says so
plainly: a condition named an infection in words affirming it. A condition whose words negate
it ("non-infectious uveitis", "infection ruled out") is not an infection; one whose words also
negate something else ("aseptic (non-infective) discitis") or that is matched only by its words
despite a code the policy does not list, is unknown: the physician reviews it, never a silent
not met. An infection of a kind the policy does not count (its `not_counted` terms: chronic
viral infections, latent tuberculosis, "history of") is unknown too — the policy's review note:
the physician reviews them. A systemic antibiotic taken in the last N days with no infection on
the problem list is unknown — the physician must review why it was given. A chart with no
problem list at all (no Condition that is evidence of anything) is unknown: "no infection on
the problem list" would be read from a list that is not there.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from plugin.candidacy.assessment import CriterionAssessment, CriterionStatus, Evidence
from plugin.candidacy.chart import reference_of
from plugin.candidacy.context import AssessmentContext
from plugin.candidacy.evidence import course_evidence, evidence
from plugin.candidacy.phrases import listing, named, sentence
from plugin.candidacy.policy import NoActiveConditionCriterion
from plugin.candidacy.value_sets import Match, Wording

__all__ = ["assess_active_condition"]

Resource = Mapping[str, Any]


def assess_active_condition(
    context: AssessmentContext, criterion: NoActiveConditionCriterion
) -> CriterionAssessment:
    today = context.today
    active: list[Resource] = []
    not_counted: list[Resource] = []  # kinds the policy leaves to the physician
    unclear: list[Resource] = []  # words the app cannot read for certain
    for condition, how in context.current_condition_matches(criterion.conditions):
        texts = context.texts_of(condition)
        words = criterion.conditions.wording(*texts)
        if how is not Match.CODE and words is Wording.NEGATED:
            continue  # "non-infectious uveitis": the words say it is not an infection
        if criterion.not_counted.matches_text(*texts):
            not_counted.append(condition)
        elif how is Match.WORDS_UNLISTED_CODE or (how is Match.WORDS and words is Wording.HEDGED):
            # Unsure words never make an absolute contraindication by themselves.
            unclear.append(condition)
        else:
            active.append(condition)
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
    unknown: list[str] = []
    shown: list[Evidence] = []
    resolve: list[str] = []
    if not_counted:
        unknown.append(
            f"{listing(named(c) for c in not_counted)} is on the problem list: the policy does "
            "not count it as an active infection, and leaves it to the physician to review"
        )
    if unclear:
        unknown.append(
            f"{listing(named(c) for c in unclear)} is on the problem list, worded so that the "
            "app cannot tell whether it is an active infection"
        )
    reviewed = not_counted + unclear
    if reviewed:
        shown.extend(evidence(c, value="needs review") for c in reviewed)
        resolve.append(f"review {listing(named(c) for c in reviewed)} (the physician)")
    if recent:
        names = listing(sorted({f"{c.label} ({reference_of(c.resource)})" for c in recent}))
        lead = "" if reviewed else "No infection is on the problem list, but "
        unknown.append(f"{lead}{names} was taken in the last {window} days (since {since})")
        shown.extend(course_evidence(c) for c in recent)
        resolve.append("review why the antibiotic was given")
    if unknown:
        return CriterionAssessment(
            id=criterion.id,
            title=criterion.title,
            status=CriterionStatus.UNKNOWN,
            explanation=sentence("; ".join(unknown) + "."),
            evidence=tuple(shown),
            resolve=sentence(f"{' and '.join(resolve)} and confirm there is no active infection."),
        )
    if not context.has_problem_list:
        return CriterionAssessment(
            id=criterion.id,
            title=criterion.title,
            status=CriterionStatus.UNKNOWN,
            explanation="The chart holds no problem list (no condition of any kind), so an "
            "active infection cannot be ruled out.",
            resolve="Attach the patient's problem list, or confirm there is no active infection.",
        )
    lookback = f" and no antibiotic course in the last {window} days" if window else ""
    return CriterionAssessment(
        id=criterion.id,
        title=criterion.title,
        status=CriterionStatus.MET,
        explanation=f"No active infection is on the problem list{lookback}.",
    )
