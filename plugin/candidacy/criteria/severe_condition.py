"""No severe spinal stenosis with obstruction (method ``no-severe-condition``;
shared/clinical.md §4, Anthem CG-SURG-29).

Severity is read from the condition's words (its code text, `severity` and notes): "severe",
"critical", "obstructing", "myelopathy" … fail the criterion; "mild" or "moderate" pass it; a
stenosis whose severity the chart does not state is unknown. With the order's region known, a
stenosis placed only in another region does not count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugin.candidacy.assessment import CriterionAssessment, CriterionStatus
from plugin.candidacy.context import AssessmentContext
from plugin.candidacy.elements import repeating
from plugin.candidacy.evidence import evidence
from plugin.candidacy.phrases import listing, named
from plugin.candidacy.policy import NoSevereConditionCriterion
from plugin.candidacy.value_sets import concept_texts

__all__ = ["assess_severe_condition"]

Resource = Mapping[str, Any]


def assess_severe_condition(
    context: AssessmentContext, criterion: NoSevereConditionCriterion
) -> CriterionAssessment:
    found = [
        c
        for c in context.current_conditions(criterion.conditions)
        if not criterion.region_specific or context.in_ordered_region(c)
    ]
    region = f" of the {context.order.region.value} region" if context.order.region else ""
    severe = [c for c in found if criterion.severe.matches_text(*_words(context, c))]
    unstated = [
        c
        for c in found
        if c not in severe and not criterion.not_severe.matches_text(*_words(context, c))
    ]
    milder = [c for c in found if c not in severe and c not in unstated]

    def shown(
        status: CriterionStatus, explanation: str, resolve: str | None = None
    ) -> CriterionAssessment:
        return CriterionAssessment(
            id=criterion.id,
            title=criterion.title,
            status=status,
            explanation=explanation,
            evidence=tuple(evidence(c) for c in found),
            resolve=resolve,
        )

    if severe:
        return shown(
            CriterionStatus.NOT_MET,
            f"{listing(named(c) for c in severe)} is charted as severe or obstructing.",
            "A spine specialist reviews whether the stenosis obstructs the levels to be tested.",
        )
    if unstated:
        return shown(
            CriterionStatus.UNKNOWN,
            f"{listing(named(c) for c in unstated)} is on the problem list without a stated "
            "severity.",
            "State the severity of the stenosis, or confirm there is no obstruction at the "
            "levels to be tested.",
        )
    if milder:
        return shown(
            CriterionStatus.MET,
            f"{listing(named(c) for c in milder)} is not severe.",
        )
    return shown(CriterionStatus.MET, f"No spinal stenosis{region} is on the problem list.")


def _words(context: AssessmentContext, condition: Resource) -> list[str]:
    texts = context.texts_of(condition) + concept_texts(condition.get("severity"))
    for note in repeating(condition.get("note")):
        if isinstance(note, Mapping) and isinstance(note.get("text"), str):
            texts.append(note["text"])
    return texts
