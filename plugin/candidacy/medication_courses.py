"""Medication courses: which drug of which policy class the patient took, from when to when.

A drug is recognised by an ingredient name (or another name, such as a brand) of a policy drug
class, as a whole word in the medication's text: `medicationCodeableConcept.text` and coding
displays, `medicationReference.display`, or the referenced Medication's code and ingredients.
A combination product ("hydrocodone and acetaminophen") gives one course per ingredient.

The period of a MedicationRequest starts at its dosage bounds or `authoredOn` and ends at the
end of its dosage bounds; an active request without one is ongoing (refills and renewals keep
it going), a finished one ends after the dispense's expected supply duration times the fills
(1 + repeats), else at the end of its validity period. A MedicationStatement's period is its
`effective[x]`; an active one with no end is ongoing. Without an end, a finished course is one
day long for measuring care, but its end is *unknown* (`end_unknown`): a MedicationRequest
`completed` means the order was carried out (e.g. dispensed), not that the patient stopped; a
`stopped` or `unknown` one, or a MedicationStatement `completed` with no end, stopped at a time
the chart does not give. The safety checks read such a recent course as possibly still taken,
unless a later record of the same ingredient settles it (`settled`): one that starts after it, or
whose known end falls on or after its start, says what came next, and is judged on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from plugin.candidacy.chart import Chart
from plugin.candidacy.elements import repeating
from plugin.candidacy.partial_dates import PartialDate, add_months
from plugin.candidacy.policy import DrugClass, Ingredient, Policy
from plugin.candidacy.record_status import status
from plugin.candidacy.selections import first_date, recorded_date, timing
from plugin.candidacy.value_sets import concept_texts, normalized_text

__all__ = ["MedicationCourse", "medication_courses", "medication_texts"]

#: Statuses meaning the patient may be taking the drug now (medicationrequest-status,
#: medication-statement-status).
_ONGOING = frozenset({"active", "on-hold"})


@dataclass(frozen=True, slots=True)
class MedicationCourse:
    resource: Mapping[str, Any]
    drug_class: DrugClass
    ingredient: Ingredient
    label: str  # the chart's words: "apixaban 5 mg oral tablet"
    start: PartialDate | None
    end: PartialDate | None  # None: ongoing, or a course of unknown length (see `ongoing`)
    ongoing: bool  # the record says the patient is taking it
    estimated_end: bool  # the end was computed from a supply duration
    end_unknown: bool  # not ongoing, and the record gives no end, supply or validity
    settled: bool = False  # end unknown, but a later record of the ingredient follows it
    # Dated only by when it was recorded (MedicationStatement.dateAsserted): the course began
    # on or before that day, the chart does not say when.
    start_recorded_only: bool = False

    @property
    def status(self) -> str | None:
        return status(self.resource)

    def last_day(self, today: date) -> date | None:
        """The last documented day of the course (latest reading); None when undated. For a
        course whose end is unknown this is its start: the chart documents nothing later."""
        if self.ongoing and (self.end is None or self.end.latest >= today):
            return today
        if self.end is not None:
            return self.end.latest
        return self.start.latest if self.start is not None else None

    def started_since(self, day: date) -> bool:
        """Whether the course may have started on or after `day` (an undated one may have)."""
        return self.start is None or self.start.latest >= day


def medication_texts(resource: Mapping[str, Any], chart: Chart) -> list[str]:
    """Every text that names the drug of a MedicationRequest or MedicationStatement."""
    texts = concept_texts(resource.get("medicationCodeableConcept"))
    reference = resource.get("medicationReference")
    if reference is not None and isinstance(reference, Mapping):
        if isinstance(reference.get("display"), str):
            texts.append(reference["display"])
        medication = chart.resolve(reference, within=resource)
        if medication is not None:
            texts.extend(concept_texts(medication.get("code")))
            for ingredient in repeating(medication.get("ingredient")):
                if isinstance(ingredient, Mapping):
                    texts.extend(concept_texts(ingredient.get("itemCodeableConcept")))
                    item = ingredient.get("itemReference")
                    if isinstance(item, Mapping) and isinstance(item.get("display"), str):
                        texts.append(item["display"])
    return texts


def medication_courses(chart: Chart, policy: Policy, today: date) -> tuple[MedicationCourse, ...]:
    """Every course of a policy drug in the chart, in a fixed order."""
    courses: list[MedicationCourse] = []
    # A long chart prescribes the same few drugs hundreds of times: each wording is matched
    # against the drug classes once.
    named: dict[tuple[str, ...], list[tuple[DrugClass, Ingredient]]] = {}
    for resource in chart.of_type("MedicationRequest", "MedicationStatement"):
        if resource.get("intent") == "proposal":
            continue  # a suggestion nobody acted on
        texts = medication_texts(resource, chart)
        wording = tuple(texts)
        matches = named.get(wording)
        if matches is None:
            normalized = [normalized_text(text) for text in texts]
            matches = named[wording] = [
                (drug_class, ingredient)
                for drug_class in policy.drug_classes
                for ingredient in drug_class.ingredients_in_normalized(normalized)
            ]
        if not matches:
            continue
        start, end, ongoing, estimated = _period(resource, today)
        recorded_only = resource.get("resourceType") == "MedicationStatement" and (
            timing(resource).start is None and start is not None
        )
        label = texts[0].strip() if texts else "medication"
        for drug_class, ingredient in matches:
            courses.append(
                MedicationCourse(
                    resource,
                    drug_class,
                    ingredient,
                    label,
                    start,
                    end,
                    ongoing,
                    estimated,
                    not ongoing and end is None,
                    start_recorded_only=recorded_only,
                )
            )
    return _settle(courses, today)


def _settle(courses: list[MedicationCourse], today: date) -> tuple[MedicationCourse, ...]:
    """Mark the courses of unknown end that a later record of the same ingredient follows: one
    starting after the course (a renewal, a restatement) or whose known end falls on or after
    its start (a statement that it was stopped). Both readings of a partial date must agree;
    an undated course cannot be shown to come before anything, so it stays unsettled."""
    latest_start: dict[str, date] = {}  # ingredient → the latest earliest-reading start
    latest_end: dict[str, date] = {}  # ingredient → the latest earliest-reading known end
    for course in courses:
        name = course.ingredient.name
        if course.start is not None:
            latest_start[name] = max(latest_start.get(name, date.min), course.start.earliest)
        end = course.end.earliest if course.end is not None else today if course.ongoing else None
        if end is not None:
            latest_end[name] = max(latest_end.get(name, date.min), end)
    # A course never settles itself: its own start is not after itself, and it has no end.
    return tuple(
        replace(course, settled=True)
        if course.end_unknown
        and course.start is not None
        and (
            latest_start.get(course.ingredient.name, date.min) > course.start.latest
            or latest_end.get(course.ingredient.name, date.min) >= course.start.latest
        )
        else course
        for course in courses
    )


def _period(
    resource: Mapping[str, Any], today: date
) -> tuple[PartialDate | None, PartialDate | None, bool, bool]:
    when = timing(resource)
    ongoing = status(resource) in _ONGOING
    start, end = when.start, when.end
    estimated = False
    if resource.get("resourceType") == "MedicationRequest":
        start = start or recorded_date(resource) or _validity(resource, "start")
        if end is None and start is not None:
            end = _bounds_duration_end(resource, start)
        # A supply duration or validity period bounds what was dispensed, not what is taken:
        # an active prescription (refills, renewals) stays ongoing; a finished one ends there.
        if end is None and not ongoing and start is not None:
            end = _supply_end(resource, start) or _validity(resource, "end")
            estimated = end is not None
    elif start is None:
        start = recorded_date(resource)  # MedicationStatement.dateAsserted
    return start, end, ongoing, estimated


_VALIDITY = {which: f"dispenseRequest.validityPeriod.{which}" for which in ("start", "end")}


def _validity(resource: Mapping[str, Any], which: str) -> PartialDate | None:
    return first_date(resource, _VALIDITY[which])


def _bounds_duration_end(resource: Mapping[str, Any], start: PartialDate) -> PartialDate | None:
    for dosage in repeating(resource.get("dosageInstruction")):
        timing_element = dosage.get("timing") if isinstance(dosage, Mapping) else None
        repeat = timing_element.get("repeat") if isinstance(timing_element, Mapping) else None
        if isinstance(repeat, Mapping):
            end = _duration_end(repeat.get("boundsDuration"), start.earliest, 1)
            if end is not None:
                return end
    return None


def _supply_end(resource: Mapping[str, Any], start: PartialDate) -> PartialDate | None:
    dispense = resource.get("dispenseRequest")
    if type(dispense) is not dict and not isinstance(dispense, Mapping):
        return None
    repeats = dispense.get("numberOfRepeatsAllowed")
    fills = 1
    if isinstance(repeats, int) and not isinstance(repeats, bool) and repeats > 0:
        fills += repeats
    return _duration_end(dispense.get("expectedSupplyDuration"), start.earliest, fills)


_DAYS_PER_UNIT = {"d": 1, "day": 1, "days": 1, "wk": 7, "week": 7, "weeks": 7}
_MONTHS_PER_UNIT = {"mo": 1, "month": 1, "months": 1, "a": 12, "year": 12, "years": 12}
_MONTHS_IN_CALENDAR = 12 * date.max.year


def _duration_end(duration: Any, start: date, times: int) -> PartialDate | None:
    """`start` plus a FHIR Duration taken `times` times (UCUM d, wk, mo, a or their words)."""
    if duration is None or (type(duration) is not dict and not isinstance(duration, Mapping)):
        return None
    value = duration.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    unit = str(duration.get("code") or duration.get("unit") or "").strip().lower()
    total = value * times
    # A duration past the calendar's last day (JSON numbers have no limit) ends on that day.
    if unit in _DAYS_PER_UNIT:
        days = total * _DAYS_PER_UNIT[unit]
        if days > (date.max - start).days:
            return PartialDate.of(date.max)
        return PartialDate.of(start + timedelta(days=round(days)))
    if unit in _MONTHS_PER_UNIT:
        months = min(total * _MONTHS_PER_UNIT[unit], _MONTHS_IN_CALENDAR)
        return PartialDate.of(add_months(start, round(months)))
    return None
