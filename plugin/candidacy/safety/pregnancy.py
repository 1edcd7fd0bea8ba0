"""Pregnancy: pregnant → not a candidate; unknown for a patient of child-bearing potential →
test first (shared/clinical.md §4; seed 002; LOINC 82810-3 with SNOMED CT answers 77386006
pregnant, 60001007 not pregnant, 261665006 unknown).

The latest statement wins: a pregnancy-status observation, a pregnancy test reported as text,
or an active pregnancy condition. A "pregnant" statement stays current for the policy's
pregnant_valid_days; a "not pregnant" one for not_pregnant_valid_days. Child-bearing potential
is defined in the policy (sex, age range, conditions or procedures that end it); a patient
whose sex or age is not recorded is treated as possibly of child-bearing potential.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from plugin.candidacy.assessment import Evidence, SafetyItem, SafetyKind, SuggestedOrder
from plugin.candidacy.context import AssessmentContext
from plugin.candidacy.evidence import evidence
from plugin.candidacy.partial_dates import PartialDate
from plugin.candidacy.phrases import named
from plugin.candidacy.policy import Pregnancy, Severity
from plugin.candidacy.selections import recorded_date, timing
from plugin.candidacy.value_sets import ValueSet, concept_texts

__all__ = ["pregnancy_items"]

Resource = Mapping[str, Any]
Answer = Literal["pregnant", "not-pregnant", "unknown"]
_RESULT_STATUS = frozenset({"final", "amended", "corrected", "preliminary"})


@dataclass(frozen=True, slots=True)
class _Statement:
    resource: Resource
    answer: Answer
    when: PartialDate


def pregnancy_items(context: AssessmentContext) -> list[SafetyItem]:
    rules = context.policy.pregnancy
    today = context.today
    statements = sorted(
        _statements(context, rules),
        key=lambda s: (s.when.latest, s.answer != "pregnant", str(s.resource.get("id", ""))),
        reverse=True,
    )
    latest = statements[0] if statements else None
    order = SuggestedOrder.of(rules.suggested_order, "Pregnancy status")
    if latest is not None and latest.answer == "pregnant":
        age = (today - latest.when.latest).days
        if age <= rules.pregnant_valid_days:
            return [
                SafetyItem(
                    id="pregnancy",
                    kind=SafetyKind.PREGNANCY,
                    severity=Severity.CONTRAINDICATION,
                    title="Pregnant",
                    explanation=f"{named(latest.resource)} on {latest.when} records the patient "
                    "as pregnant: fluoroscopy and contrast injection are not done in pregnancy.",
                    action="Not a candidate while pregnant.",
                    evidence=(_evidence(latest),),
                )
            ]
    potential, why = _child_bearing_potential(context, rules)
    if not potential:
        return []
    if latest is not None and latest.answer == "not-pregnant":
        age = (today - latest.when.earliest).days
        if age <= rules.not_pregnant_valid_days:
            return []
        found = (
            f"the latest result, not pregnant on {latest.when} ({named(latest.resource)}), is "
            f"{age} days old (valid {rules.not_pregnant_valid_days} days)"
        )
    elif latest is not None and latest.answer == "unknown":
        found = f"pregnancy status is unknown on {latest.when} ({named(latest.resource)})"
    elif latest is not None:
        found = f"the last pregnancy record, {latest.when}, is no longer current"
    else:
        found = "no pregnancy status is recorded"
    return [
        SafetyItem(
            id="pregnancy",
            kind=SafetyKind.PREGNANCY,
            severity=Severity.ACTION,
            title="Pregnancy status unknown",
            explanation=f"The patient may be of child-bearing potential ({why}) and {found}.",
            action=f"Confirm pregnancy status before the procedure (record {order.text}, "
            f"LOINC {order.code}); test first.",
            evidence=(_evidence(latest),) if latest else (),
            suggested_order=order,
        )
    ]


def _statements(context: AssessmentContext, rules: Pregnancy) -> list[_Statement]:
    found: list[_Statement] = []
    statuses = context.matching("Observation", rules.status)
    status_ids = {id(o) for o in statuses}
    tests = [o for o in context.matching("Observation", rules.tests) if id(o) not in status_ids]
    for observation in [*statuses, *tests]:
        value = observation.get("status")
        if isinstance(value, str) and value not in _RESULT_STATUS:
            continue
        answer = (
            _status_answer(rules, observation)
            if id(observation) in status_ids
            else _test_answer(rules, observation)
        )
        if answer is None:
            continue
        when = timing(observation).start or recorded_date(observation)
        if when is not None and when.earliest <= context.today:
            found.append(_Statement(observation, answer, when))
    for condition in context.current_conditions(rules.conditions):
        when = timing(condition).start or recorded_date(condition)
        if when is not None:
            found.append(_Statement(condition, "pregnant", when))
    return found


def _status_answer(rules: Pregnancy, observation: Resource) -> Answer | None:
    concept = observation.get("valueCodeableConcept")
    texts = concept_texts(concept)
    if isinstance(observation.get("valueString"), str):
        texts.append(observation["valueString"])
    # "not pregnant" contains "pregnant": the more specific answers are tried first.
    answers: tuple[tuple[Answer, ValueSet], ...] = (
        ("not-pregnant", rules.not_pregnant),
        ("unknown", rules.unknown),
        ("pregnant", rules.pregnant),
    )
    for answer, value_set in answers:
        if value_set.matched_code(concept) is not None:
            return answer
    for answer, value_set in answers:
        if value_set.matches_text(*texts):
            return answer
    return None


def _test_answer(rules: Pregnancy, observation: Resource) -> Answer | None:
    texts = concept_texts(observation.get("valueCodeableConcept"))
    if isinstance(observation.get("valueString"), str):
        texts.append(observation["valueString"])
    if rules.test_negative.matches_text(*texts):
        return "not-pregnant"
    if rules.test_positive.matches_text(*texts):
        return "pregnant"
    return None


def _child_bearing_potential(context: AssessmentContext, rules: Pregnancy) -> tuple[bool, str]:
    """(possibly of child-bearing potential, why in words)."""
    policy = rules.child_bearing_potential
    sex = context.chart.sex()
    age = context.chart.age_on(context.today)
    if sex is not None and sex not in policy.sexes:
        return False, f"sex {sex}"
    if age is not None and not policy.min_age_years <= age <= policy.max_age_years:
        return False, f"age {age}"
    if not policy.excluded_by.empty:
        for resource in context.chart.of_type("Condition", "Procedure"):
            if policy.excluded_by.matches_text(*context.texts_of(resource)):
                return False, named(resource)
    sex_words = sex if sex is not None else "sex not recorded"
    age_words = f"age {age}" if age is not None else "age not recorded"
    return True, f"{sex_words}, {age_words}"


def _evidence(statement: _Statement) -> Evidence:
    return evidence(statement.resource, date=statement.when, value=statement.answer)
