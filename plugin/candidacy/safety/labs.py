"""Labs before the procedure: kidney function always (iodinated contrast), INR and platelets
when there is a clotting risk — an anticoagulant, a hepatic, renal or coagulation disorder, or
a kidney result in the action range (shared/clinical.md §4; seed 002; ASRA 2018).

A required lab with no result is *missing*; with none recent enough, *out of date*. A recent
result in the policy's action range (eGFR < 30, INR > 1.5, platelets < 100) is *out of range*
whether or not the lab was required. Each missing or stale lab suggests the test to order.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from plugin.candidacy.assessment import Evidence, SafetyItem, SafetyKind, SuggestedOrder
from plugin.candidacy.context import AssessmentContext
from plugin.candidacy.evidence import evidence
from plugin.candidacy.phrases import listing, named, read_from, threshold_words
from plugin.candidacy.policy import LabRequiredWhen, LabRequirement, Severity
from plugin.candidacy.safety.lab_results import LabResult, lab_results, meets

__all__ = ["clotting_risk_reasons", "lab_items"]


def lab_items(context: AssessmentContext) -> list[SafetyItem]:
    results = lab_results(context)
    risk = clotting_risk_reasons(context, results)
    items: list[SafetyItem] = []
    for requirement in context.policy.lab_requirements:
        items.extend(_requirement_items(context, requirement, results, risk))
    return items


def _recent(context: AssessmentContext, requirement: LabRequirement, result: LabResult) -> bool:
    return result.age_days(context.today) <= requirement.max_age_days


def _requirement_items(
    context: AssessmentContext,
    requirement: LabRequirement,
    results: Mapping[str, tuple[LabResult, ...]],
    risk: list[tuple[str, Mapping[str, Any]]],
) -> list[SafetyItem]:
    policy = context.policy
    items: list[SafetyItem] = []
    window = requirement.max_age_days
    order = SuggestedOrder.of(requirement.suggested_order, requirement.title)
    recent = [
        r for lab in requirement.any_of for r in results[lab] if _recent(context, requirement, r)
    ]
    for lab_id in requirement.any_of:
        lab = policy.lab(lab_id)
        latest = next((r for r in results[lab_id] if _recent(context, requirement, r)), None)
        if latest is None or lab.action_when is None:
            continue
        decided = meets(lab.action_when, latest)
        limit = threshold_words(lab.action_when, lab.unit)
        if latest.value is None or decided is None:
            reason = latest.problem or f"{latest.shown} cannot be compared with {limit}"
            items.append(
                SafetyItem(
                    id=f"lab-{lab.id}-unreadable",
                    kind=SafetyKind.LAB_UNREADABLE,
                    severity=Severity.ACTION,
                    title=f"{lab.title} result cannot be read",
                    explanation=f"{named(latest.resource)} on {latest.when} cannot be checked "
                    f"against {limit}: {reason}.",
                    action=f"Check the result and repeat the test if needed ({order.text}, "
                    f"LOINC {order.code}).",
                    evidence=(_evidence(latest),),
                    suggested_order=order,
                )
            )
        elif decided:
            items.append(
                SafetyItem(
                    id=f"lab-{lab.id}-out-of-range",
                    kind=SafetyKind.LAB_OUT_OF_RANGE,
                    severity=Severity.ACTION,
                    title=f"{lab.title} {limit}",
                    explanation=f"{named(latest.resource)}: {latest.shown} on {latest.when} "
                    f"is {limit}.",
                    action=lab.action,
                    evidence=(_evidence(latest),),
                )
            )
    required = requirement.required is LabRequiredWhen.ALWAYS or bool(risk)
    if not required:
        return items
    why = _why(requirement, risk)
    if not recent:
        older = sorted(
            (r for lab in requirement.any_of for r in results[lab]),
            key=lambda r: (r.when.latest, str(r.resource.get("id", ""))),
            reverse=True,
        )
        if older:
            last = older[0]
            items.append(
                SafetyItem(
                    id=f"lab-{requirement.id}",
                    kind=SafetyKind.LAB_OUT_OF_DATE,
                    severity=Severity.ACTION,
                    title=f"{requirement.title}: out of date",
                    explanation=f"The latest result, {named(last.resource)}: {last.shown} on "
                    f"{last.when}, is {last.age_days(context.today)} days old; "
                    f"{requirement.title} is needed within {window} days{why}.",
                    action=f"Order {order.text} (LOINC {order.code}) within {window} days "
                    "before the procedure.",
                    evidence=(_evidence(last),),
                    suggested_order=order,
                )
            )
        else:
            items.append(
                SafetyItem(
                    id=f"lab-{requirement.id}",
                    kind=SafetyKind.LAB_MISSING,
                    severity=Severity.ACTION,
                    # Read from a day on, an older result may exist: "none recent" is true
                    # either way, "missing" only of the whole chart.
                    title=f"{requirement.title}: "
                    + ("missing" if context.chart.observations_from is None else "none recent"),
                    explanation=f"No {requirement.title} result "
                    f"{_read_where(context.chart.observations_from)}; one is needed within "
                    f"{window} days before the procedure{why}.",
                    action=f"Order {order.text} (LOINC {order.code}).",
                    evidence=_risk_evidence(risk, requirement),
                    suggested_order=order,
                )
            )
        return items
    # Recent, but only from a lab the policy cannot judge (creatinine alone, PT without INR):
    # the requirement exists so that the policy's limit is checked, which this result cannot
    # do — a creatinine of 600 µmol/L must not pass as "kidney function known". No threshold
    # is invented for the unjudged lab: the lab the policy judges is asked for.
    judged = [lab for lab in requirement.any_of if policy.lab(lab).action_when is not None]
    if judged and not any(r.lab.id in judged for r in recent):
        latest = recent[0]
        names = listing(policy.lab(lab).title for lab in judged)
        limits = listing(
            f"{policy.lab(lab).title} {threshold_words(action_when, policy.lab(lab).unit)}"
            for lab in judged
            if (action_when := policy.lab(lab).action_when) is not None
        )
        items.append(
            SafetyItem(
                id=f"lab-{requirement.id}-note",
                kind=SafetyKind.LAB_NOTE,
                severity=Severity.ACTION,
                title=f"{requirement.title}: no {names}",
                explanation=f"{named(latest.resource)}: {latest.as_charted} on {latest.when} is "
                f"recent, but the policy's limit is on {names} (action when {limits}) and no "
                f"{names} is reported: this result cannot show whether the limit is met, so "
                f"{names} is needed before the procedure.",
                action=f"Order {order.text} (LOINC {order.code}) before the procedure.",
                evidence=(_evidence(latest),),
                suggested_order=order,
            )
        )
    return items


def clotting_risk_reasons(
    context: AssessmentContext, results: Mapping[str, tuple[LabResult, ...]] | None = None
) -> list[tuple[str, Mapping[str, Any]]]:
    """Why clotting labs are needed: (reason in words, the record behind it)."""
    risk = context.policy.clotting_risk
    reasons: list[tuple[str, Mapping[str, Any]]] = []
    for course in context.active_courses(risk.drug_classes):
        if context.recent_with_end_unknown(course):
            # Recent, but the record gives no end: the chart does not say it was stopped.
            reason = (
                f"the patient may still take {course.ingredient.name} (the chart does not say "
                f"when {named(course.resource, course.label)} was stopped)"
            )
        else:
            reason = f"the patient takes {course.ingredient.name}"
        reasons.append((reason, course.resource))
    if not risk.conditions.empty:
        for condition in context.current_conditions(risk.conditions):
            reasons.append((f"the patient has {named(condition)}", condition))
    results = results if results is not None else lab_results(context)
    windows = {lab: r.max_age_days for r in context.policy.lab_requirements for lab in r.any_of}
    for lab_id in risk.labs_needing_action:
        lab = context.policy.lab(lab_id)
        window = windows.get(lab_id)
        latest = next(
            (r for r in results[lab_id] if window is None or r.age_days(context.today) <= window),
            None,
        )
        if latest is not None and lab.action_when is not None and meets(lab.action_when, latest):
            reasons.append((f"{lab.title} is {latest.shown}", latest.resource))
    return reasons


def _why(requirement: LabRequirement, risk: list[tuple[str, Mapping[str, Any]]]) -> str:
    if requirement.required is LabRequiredWhen.ALWAYS or not risk:
        return ""
    return " because " + listing(sorted({reason for reason, _ in risk}))


def _risk_evidence(
    risk: list[tuple[str, Mapping[str, Any]]], requirement: LabRequirement
) -> tuple[Evidence, ...]:
    if requirement.required is LabRequiredWhen.ALWAYS:
        return ()
    return tuple(evidence(resource) for _, resource in risk)


def _evidence(result: LabResult) -> Evidence:
    return evidence(result.resource, date=result.when, value=result.shown)


def _read_where(observations_from: date | None) -> str:
    """Where no result was found: the chart, or the part of it read."""
    return "is in the chart" if observations_from is None else read_from(observations_from)
