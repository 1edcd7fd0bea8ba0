"""No severe spinal stenosis with obstruction (method ``no-severe-condition``;
shared/clinical.md §4, Anthem CG-SURG-29).

Severity is read from the condition's words (its code text, `severity` and notes): "severe",
"critical", "obstructing", "myelopathy" … fail the criterion; "mild" or "moderate" pass it; a
stenosis whose severity the chart does not state is unknown. Negated words are read as such:
"no severe stenosis" or "without myelopathy" does not make a stenosis severe, and states no
severity either; a severe word affirmed where the text also negates something, or a stenosis
matched only by its words despite a code the policy does not list, is unknown — unsure words
never make not met. With the order's region known, a stenosis placed only in another region
does not count. A chart with no problem list at all (no Condition that is evidence of
anything) is unknown: "no stenosis on the problem list" would be read from a list that is not
there.
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
from plugin.candidacy.value_sets import Match, Wording, concept_texts

__all__ = ["assess_severe_condition"]

Resource = Mapping[str, Any]


def assess_severe_condition(
    context: AssessmentContext, criterion: NoSevereConditionCriterion
) -> CriterionAssessment:
    matched = [
        (c, how)
        for c, how in context.current_condition_matches(criterion.conditions)
        if not criterion.region_specific or context.in_ordered_region(c)
    ]
    # "Non-stenotic" or "stenosis ruled out": the words say it is not a stenosis.
    found = [
        c
        for c, how in matched
        if how is Match.CODE
        or criterion.conditions.wording(*context.texts_of(c)) is not Wording.NEGATED
    ]
    unsure_match = {id(c) for c, how in matched if how is Match.WORDS_UNLISTED_CODE}
    region = f" of the {context.order.region.value} region" if context.order.region else ""
    severity = {id(c): criterion.severe.wording(*_words(context, c)) for c in found}
    severe = [c for c in found if severity[id(c)] is Wording.AFFIRMED and id(c) not in unsure_match]
    unsure_severe = [
        c
        for c in found
        if c not in severe and severity[id(c)] in (Wording.AFFIRMED, Wording.HEDGED)
    ]
    unstated = [
        c
        for c in found
        if c not in severe
        and c not in unsure_severe
        and not _stated_milder(criterion.not_severe.wording(*_words(context, c)), severity[id(c)])
    ]
    milder = [c for c in found if c not in severe and c not in unsure_severe and c not in unstated]

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
    if unsure_severe:
        return shown(
            CriterionStatus.UNKNOWN,
            f"{listing(named(c) for c in unsure_severe)} may be severe, but its wording does "
            "not let the app tell for certain.",
            "A spine specialist reviews whether the stenosis is severe and obstructs the levels "
            "to be tested.",
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
    if not context.has_problem_list:
        return shown(
            CriterionStatus.UNKNOWN,
            "The chart holds no problem list (no condition of any kind), so a severe spinal "
            f"stenosis{region} cannot be ruled out.",
            "Attach the patient's problem list, or confirm there is no severe spinal stenosis.",
        )
    return shown(CriterionStatus.MET, f"No spinal stenosis{region} is on the problem list.")


def _words(context: AssessmentContext, condition: Resource) -> list[str]:
    texts = context.texts_of(condition) + concept_texts(condition.get("severity"))
    for note in repeating(condition.get("note")):
        if isinstance(note, Mapping) and isinstance(note.get("text"), str):
            texts.append(note["text"])
    return texts


def _stated_milder(milder: Wording, severe: Wording) -> bool:
    """A milder grade is stated plainly — or beside a negated severe word, the negation
    that made the milder words' reading unsure ("mild; no severe stenosis")."""
    return milder is Wording.AFFIRMED or (milder is Wording.HEDGED and severe is Wording.NEGATED)
