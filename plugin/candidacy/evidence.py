"""Evidence entries: a chart record's reference, label, date or period and the value used.

Labels are the chart's own words (CodeableConcept.text or a coding's display from the EHR);
a concept with neither is labelled by the name mappings/standard-codes.json gives its code, or
by the code itself ("LOINC 1234-5").
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from plugin.candidacy.assessment import Evidence, EvidencePeriod
from plugin.candidacy.chart import reference_of
from plugin.candidacy.medication_courses import MedicationCourse
from plugin.candidacy.partial_dates import PartialDate
from plugin.candidacy.selections import Timing, recorded_date, timing
from plugin.candidacy.value_sets import codings, concept_texts
from plugin.terminology import standard_codes, system_url

__all__ = [
    "concept_label",
    "course_evidence",
    "evidence",
    "main_concept_elements",
    "main_concepts",
    "resource_label",
]

_SYSTEM_NAMES = {"loinc": "LOINC", "snomed": "SNOMED CT", "cpt": "CPT"}

#: The elements naming what a record is, per resource type.
_CONCEPTS: dict[str, tuple[str, ...]] = {
    "Condition": ("code",),
    "Procedure": ("code",),
    "Encounter": ("type", "serviceType"),
    "ServiceRequest": ("code",),
    "MedicationRequest": ("medicationCodeableConcept",),
    "MedicationStatement": ("medicationCodeableConcept",),
    "Medication": ("code",),
    "AllergyIntolerance": ("code",),
    "Observation": ("code",),
    "DiagnosticReport": ("code",),
    "ImagingStudy": ("procedureCode",),
}


def main_concept_elements(resource_type: str) -> tuple[str, ...]:
    """The elements of a resource type naming what a record is (`code`, `type`, …)."""
    return _CONCEPTS.get(resource_type, ())


def main_concepts(resource: Mapping[str, Any]) -> list[Any]:
    """The CodeableConcepts saying what the record is (lists flattened)."""
    found: list[Any] = []
    for element in _CONCEPTS.get(str(resource.get("resourceType")), ()):
        value = resource.get(element)
        if type(value) is dict:  # the common case, a JSON object, without the Mapping check
            if value:
                found.append(value)
        elif isinstance(value, list):
            found.extend(c for c in value if isinstance(c, Mapping))
        elif value and isinstance(value, Mapping):
            found.append(value)
    return found


def concept_label(concept: Any) -> str | None:
    texts = concept_texts(concept)
    if texts:
        return texts[0].strip()
    for coding in codings(concept):
        code = coding.get("code")
        if isinstance(code, str):
            # A standard code listed in mappings/standard-codes.json reads by its name there.
            name = _standard_names().get((str(coding.get("system")), code))
            return name or f"{_system_name(coding.get('system'))} {code}".strip()
    return None


def resource_label(resource: Mapping[str, Any]) -> str:
    """What the record is, in the chart's words: "Low back pain", "apixaban 5 mg tablet"."""
    for concept in main_concepts(resource):
        label = concept_label(concept)
        if label:
            return label
    description = resource.get("description")
    if isinstance(description, str) and description.strip():
        return description.strip()
    medication = resource.get("medicationReference")
    if isinstance(medication, Mapping) and isinstance(medication.get("display"), str):
        return str(medication["display"])
    return str(resource.get("resourceType", "record"))


def evidence(
    resource: Mapping[str, Any],
    *,
    value: str | None = None,
    display: str | None = None,
    when: Timing | None = None,
    date: PartialDate | None = None,
) -> Evidence:
    """An evidence entry for a record, dated by `date`, by `when`, or by the record itself."""
    label = display or resource_label(resource)
    if date is not None:
        return Evidence(
            reference=reference_of(resource), display=label, date=date.text, value=value
        )
    when = when or timing(resource)
    if when.start is None:
        recorded = recorded_date(resource)
        return Evidence(
            reference=reference_of(resource),
            display=label,
            date=recorded.text if recorded else None,
            value=value,
        )
    if when.end is not None and when.end != when.start:
        return Evidence(
            reference=reference_of(resource),
            display=label,
            period=EvidencePeriod(start=when.start.text, end=when.end.text),
            value=value,
        )
    return Evidence(
        reference=reference_of(resource), display=label, date=when.start.text, value=value
    )


def course_evidence(course: MedicationCourse) -> Evidence:
    """A medication course: the chart's drug text, its period (open while ongoing), status."""
    start = course.start.text if course.start else None
    end = None if course.ongoing else (course.end.text if course.end else None)
    period = EvidencePeriod(start=start, end=end) if end != start or course.ongoing else None
    return Evidence(
        reference=reference_of(course.resource),
        display=course.label,
        date=start if period is None else None,
        period=period,
        value=course.status,
    )


@cache
def _standard_names() -> dict[tuple[str, str], str]:
    return {
        (system_url(key), code): str(entry["name"])
        for key in _SYSTEM_NAMES
        for code, entry in standard_codes(key).items()
    }


def _system_name(system: object) -> str:
    for key, name in _SYSTEM_NAMES.items():
        if system == system_url(key):
            return name
    return str(system or "")
