"""Drugs to hold before the procedure, and drugs to know about (shared/clinical.md §4 drug
hold table; ASRA 2018 risk tiers; seed 002).

A drug counts while the patient may be taking it, or when its last documented day is within
its hold period (stopped two days ago, with a five-day hold: the hold is not complete). A recent
course of a drug with a hold whose record gives no end (a prescription `completed` — carried
out, e.g. dispensed — or `stopped`, or of unknown status, with no end date or supply duration)
counts too: the chart does not say when the patient last took it, so the item says so and asks
for the last dose to be confirmed — unless a later record of the drug settles it (it starts
after that course, or its known end falls on or after that course's start), which is then judged
by its own dates. Every hold says the prescriber must confirm that stopping is safe; a hold whose
period is not yet confirmed from a primary source says so.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from plugin.candidacy.assessment import SafetyItem, SafetyKind, SuggestedOrder
from plugin.candidacy.chart import reference_of
from plugin.candidacy.context import AssessmentContext
from plugin.candidacy.evidence import course_evidence
from plugin.candidacy.medication_courses import MedicationCourse
from plugin.candidacy.partial_dates import Precision
from plugin.candidacy.phrases import listing, named, threshold_words
from plugin.candidacy.policy import DrugClass, Hold, Ingredient

__all__ = ["drug_items"]


def drug_items(context: AssessmentContext) -> list[SafetyItem]:
    items: list[SafetyItem] = []
    for drug_class in context.policy.drug_classes:
        if drug_class.safety is None:
            continue
        grouped: dict[str, list[MedicationCourse]] = {}
        ingredients: dict[str, Ingredient] = {}
        for course in context.courses_of((drug_class.id,)):
            hold = course.ingredient.hold
            last = course.last_day(context.today)
            if not _end_unknown(context, course) and (
                last is None
                or (hold is None and last < context.today)
                or (hold is not None and _hold_complete(last, hold) <= context.today)
            ):
                continue
            grouped.setdefault(course.ingredient.name, []).append(course)
            ingredients[course.ingredient.name] = course.ingredient
        for name in sorted(grouped):
            items.append(_item(context, drug_class, ingredients[name], grouped[name]))
    return items


def _item(
    context: AssessmentContext,
    drug_class: DrugClass,
    ingredient: Ingredient,
    courses: list[MedicationCourse],
) -> SafetyItem:
    assert drug_class.safety is not None
    today = context.today
    records = listing(
        f"{named(course.resource, course.label)}{_state(course, context)}" for course in courses
    )
    risk = context.policy.bleeding_risk.get(context.order.region) if context.order.region else None
    risk_words = (
        f" {context.order.region.value.capitalize()} disc access is a {risk} bleeding-risk "
        "procedure."
        if risk and context.order.region
        else ""
    )
    explanation = f"{drug_class.title}: {records}.{risk_words}"
    hold = ingredient.hold
    if hold is None:
        return SafetyItem(
            id=f"drug-note-{_slug(ingredient.name)}",
            kind=SafetyKind.DRUG_NOTE,
            severity=drug_class.safety,
            title=f"{drug_class.title}: {ingredient.name}",
            explanation=explanation,
            action=drug_class.advice,
            evidence=tuple(course_evidence(c) for c in courses),
        )
    unknown = [c for c in courses if _end_unknown(context, c)]
    last = max(day for c in courses if (day := _possible_last_day(context, c)) is not None)
    stopped = (
        f" The last documented day is {last.isoformat()}, so the hold ({_period(hold, short=True)}"
        f" without {ingredient.name}) is complete from {_hold_complete(last, hold).isoformat()}."
        if last < today
        else ""
    )
    if unknown:
        stopped += (
            f" The chart does not say when {ingredient.name} was last taken ("
            + "; ".join(_why_end_unknown(c) for c in unknown)
            + "): the last dose may be within the hold period."
        )
    lab_check, order = _lab_check(context, hold)
    action = f"Hold {ingredient.name} for {_period(hold)} before the procedure{lab_check}."
    if unknown and not any(
        not _end_unknown(context, c) and (day := c.last_day(today)) is not None and day >= today
        for c in courses
    ):
        # No record shows the drug is taken now: the last dose decides whether to hold it.
        action = f"Confirm when the patient last took {ingredient.name}. {action}"
    if drug_class.advice:
        action += f" {drug_class.advice}"
    return SafetyItem(
        id=f"drug-hold-{_slug(ingredient.name)}",
        kind=SafetyKind.DRUG_HOLD,
        severity=drug_class.safety,
        title=f"Hold {ingredient.name} {_period(hold, short=True)}",
        explanation=explanation + stopped,
        action=action,
        evidence=tuple(course_evidence(c) for c in courses),
        hold_days=hold.days,
        hold_range_days=hold.range_days,
        suggested_order=order,
    )


def _hold_complete(last: date, hold: Hold) -> date:
    """The first day the hold is over: "hold N days" is N whole days without the drug between
    the day of the last dose and the procedure (warfarin 5 days: last dose on day −6). The time
    of the last dose is not charted, so a day on which it may have been taken does not count."""
    return last + timedelta(days=hold.days + 1)


def _end_unknown(context: AssessmentContext, course: MedicationCourse) -> bool:
    """A recent course of a drug with a hold whose end the chart does not give."""
    return course.ingredient.hold is not None and context.recent_with_end_unknown(course)


def _possible_last_day(context: AssessmentContext, course: MedicationCourse) -> date | None:
    """The latest day the drug may have been taken: today when the chart gives no end."""
    return context.today if _end_unknown(context, course) else course.last_day(context.today)


#: Why a record without an end does not show the drug was stopped (medicationrequest-status,
#: medication-statement-status).
_WHY_NO_END = {
    ("MedicationRequest", "completed"): "a completed prescription was carried out, for example "
    "dispensed, which does not mean the patient stopped taking it",
    ("MedicationRequest", "stopped"): "the prescription was stopped on a day the chart does "
    "not give",
    ("MedicationStatement", "completed"): "the patient finished it on a day the chart does not "
    "give",
    ("MedicationStatement", "stopped"): "the patient stopped it on a day the chart does not give",
}


def _why_end_unknown(course: MedicationCourse) -> str:
    resource_type = str(course.resource.get("resourceType"))
    status = course.status
    why = _WHY_NO_END.get((resource_type, status or ""))
    if why is None:
        why = f"its status is {status}" if status else "it has no status"
    reference = reference_of(course.resource) or course.label
    return f"{reference}: {why}, and it gives no end date or supply duration"


def _state(course: MedicationCourse, context: AssessmentContext) -> str:
    start = f" since {course.start}" if course.start else ""
    if course.ongoing:
        return f", {course.status}{start}"
    if _end_unknown(context, course):
        started = f", from {course.start}" if course.start else ", undated"
        return f", {course.status or 'no status'}{started}, no end recorded"
    last = course.last_day(context.today)
    if last is None:
        return ""
    end = course.end
    if end is not None and end.precision is not Precision.DAY and last == end.latest:
        # The chart gives the end only to the month or year: say so, and which day is assumed.
        verb = "ending" if last >= context.today else "ended"
        return f", {verb} in {end} (no day given: the latest, {last.isoformat()}, is assumed)"
    return (
        f", until {last.isoformat()}"
        if last >= context.today
        else f", last documented {last.isoformat()}"
    )


def _period(hold: Hold, *, short: bool = False) -> str:
    base = hold.shown_as or (f"{hold.days} day" if hold.days == 1 else f"{hold.days} days")
    if short:
        return base.split(" (")[0]
    if hold.range_days is not None and hold.range_days[0] != hold.range_days[1]:
        low, high = hold.range_days
        base += f" (quoted range {low}–{high} days; the policy uses {hold.days})"
    if not hold.verified:
        base += " (hold period to verify)"
    return base


def _lab_check(context: AssessmentContext, hold: Hold) -> tuple[str, SuggestedOrder | None]:
    if hold.check_lab is None:
        return "", None
    lab = context.policy.lab(hold.check_lab)
    requirement = next(
        (r for r in context.policy.lab_requirements if hold.check_lab in r.any_of), None
    )
    order = (
        SuggestedOrder.of(requirement.suggested_order, requirement.title) if requirement else None
    )
    if lab.action_when is None:
        return f" and check the {lab.title} before it", order
    limit = threshold_words(lab.action_when, lab.unit)
    return f" and confirm the {lab.title} is no longer {limit} before it", order


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
