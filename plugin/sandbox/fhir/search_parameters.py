"""The search parameters the sandbox FHIR server supports, per resource type, pure.

Names and elements follow the FHIR R4 search parameter registry. Two sandbox conveniences are
marked in their documentation: `date` on Condition (onset, else recorded date) and on
MedicationRequest / MedicationStatement (when it was ordered / taken).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "COMMON_PARAMETERS",
    "RESOURCE_TYPES",
    "ParamType",
    "SearchParameter",
    "element_values",
    "parameters_of",
]


class ParamType(StrEnum):
    TOKEN = "token"  # noqa: S105 (a name, not a secret)
    REFERENCE = "reference"
    DATE = "date"
    STRING = "string"


@dataclass(frozen=True, slots=True)
class SearchParameter:
    name: str
    type: ParamType
    paths: tuple[str, ...]  # dotted element paths; arrays are walked; choice types listed
    documentation: str
    targets: tuple[str, ...] = ()  # reference parameters: the types a bare id refers to


def _token(name: str, *paths: str, doc: str = "") -> SearchParameter:
    return SearchParameter(name, ParamType.TOKEN, paths, doc or f"{'/'.join(paths)} (token)")


def _date(name: str, *paths: str, doc: str = "") -> SearchParameter:
    return SearchParameter(name, ParamType.DATE, paths, doc or f"{'/'.join(paths)} (date)")


def _string(name: str, *paths: str) -> SearchParameter:
    return SearchParameter(name, ParamType.STRING, paths, f"{'/'.join(paths)} (starts with)")


def _reference(name: str, path: str, *targets: str) -> SearchParameter:
    return SearchParameter(name, ParamType.REFERENCE, (path,), f"{path} (reference)", targets)


def _patient(path: str = "subject") -> tuple[SearchParameter, SearchParameter]:
    return _reference("patient", path, "Patient"), _reference("subject", path, "Patient")


COMMON_PARAMETERS: tuple[SearchParameter, ...] = (
    _token("_id", "id", doc="the logical id"),
    _date("_lastUpdated", "meta.lastUpdated", doc="when the resource last changed"),
    _token("_tag", "meta.tag", doc="a tag in meta.tag"),
)

_EFFECTIVE = ("effectiveDateTime", "effectivePeriod", "effectiveInstant")

_BY_TYPE: dict[str, tuple[SearchParameter, ...]] = {
    "Patient": (
        _token("identifier", "identifier"),
        _string("name", "name"),
        _string("family", "name.family"),
        _string("given", "name.given"),
        _date("birthdate", "birthDate"),
        _token("gender", "gender"),
    ),
    "Practitioner": (
        _token("identifier", "identifier"),
        _string("name", "name"),
        _string("family", "name.family"),
        _string("given", "name.given"),
    ),
    "Encounter": (
        *_patient(),
        _date("date", "period"),
        _token("status", "status"),
        _token("class", "class"),
        _token("type", "type"),
        _token("identifier", "identifier"),
    ),
    "Condition": (
        *_patient(),
        _reference("encounter", "encounter", "Encounter"),
        _token("category", "category"),
        _token("code", "code"),
        _token("clinical-status", "clinicalStatus"),
        _token("verification-status", "verificationStatus"),
        _token("body-site", "bodySite"),
        _date("onset-date", "onsetDateTime", "onsetPeriod"),
        _date("recorded-date", "recordedDate"),
        _date(
            "date",
            "onsetDateTime",
            "onsetPeriod",
            "recordedDate",
            doc="sandbox convenience: onset[x] or recordedDate",
        ),
        _token("identifier", "identifier"),
    ),
    "Procedure": (
        *_patient(),
        _reference("encounter", "encounter", "Encounter"),
        _token("code", "code"),
        _token("category", "category"),
        _token("status", "status"),
        _date("date", "performedDateTime", "performedPeriod"),
        _token("identifier", "identifier"),
    ),
    "ServiceRequest": (
        *_patient(),
        _reference("encounter", "encounter", "Encounter"),
        _token("code", "code"),
        _token("category", "category"),
        _token("status", "status"),
        _token("intent", "intent"),
        _date("authored", "authoredOn"),
        _date("occurrence", "occurrenceDateTime", "occurrencePeriod"),
        _token("identifier", "identifier"),
    ),
    "MedicationRequest": (
        *_patient(),
        _reference("encounter", "encounter", "Encounter"),
        _token("code", "medicationCodeableConcept"),
        _token("status", "status"),
        _token("intent", "intent"),
        _date("authoredon", "authoredOn"),
        _date("date", "authoredOn", doc="sandbox convenience: authoredOn"),
        _token("identifier", "identifier"),
    ),
    "MedicationStatement": (
        *_patient(),
        _token("code", "medicationCodeableConcept"),
        _token("category", "category"),
        _token("status", "status"),
        _date("effective", "effectiveDateTime", "effectivePeriod"),
        _date(
            "date", "effectiveDateTime", "effectivePeriod", doc="sandbox convenience: effective[x]"
        ),
        _token("identifier", "identifier"),
    ),
    "AllergyIntolerance": (
        *_patient("patient"),
        _token("code", "code"),
        _token("category", "category"),
        _token("criticality", "criticality"),
        _token("clinical-status", "clinicalStatus"),
        _token("verification-status", "verificationStatus"),
        _date("date", "recordedDate"),
        _token("identifier", "identifier"),
    ),
    "Observation": (
        *_patient(),
        _reference("encounter", "encounter", "Encounter"),
        _token("category", "category"),
        _token("code", "code"),
        _token("status", "status"),
        _token("value-concept", "valueCodeableConcept"),
        _date("date", *_EFFECTIVE),
        _token("identifier", "identifier"),
    ),
    "DiagnosticReport": (
        *_patient(),
        _reference("encounter", "encounter", "Encounter"),
        _token("category", "category"),
        _token("code", "code"),
        _token("status", "status"),
        _date("date", "effectiveDateTime", "effectivePeriod"),
        _date("issued", "issued"),
        _token("identifier", "identifier"),
    ),
    "ImagingStudy": (
        *_patient(),
        _reference("encounter", "encounter", "Encounter"),
        _token("status", "status"),
        _date("started", "started"),
        _token("identifier", "identifier"),
    ),
    "DocumentReference": (
        *_patient(),
        _reference("encounter", "context.encounter", "Encounter"),
        _token("type", "type"),
        _token("category", "category"),
        _token("status", "status"),
        _date("date", "date"),
        _date("period", "context.period"),
        _token("identifier", "identifier"),
    ),
    "Provenance": (
        _reference("target", "target"),
        _reference("patient", "target", "Patient"),
        _date("recorded", "recorded"),
    ),
}

#: The resource types the sandbox stores and serves.
RESOURCE_TYPES: tuple[str, ...] = tuple(sorted(_BY_TYPE))


def parameters_of(resource_type: str) -> dict[str, SearchParameter]:
    """Every search parameter of a type (the common ones included), by name."""
    params = {p.name: p for p in COMMON_PARAMETERS}
    params.update({p.name: p for p in _BY_TYPE.get(resource_type, ())})
    return params


def element_values(resource: dict[str, Any], path: str) -> list[Any]:
    """The values at a dotted element path, arrays flattened (``name.given`` → every given)."""
    return list(_walk(resource, path.split(".")))


def _walk(value: Any, steps: list[str]) -> Iterator[Any]:
    if isinstance(value, list):
        for item in value:
            yield from _walk(item, steps)
        return
    if not steps:
        if value is not None:
            yield value
        return
    if isinstance(value, dict) and steps[0] in value:
        yield from _walk(value[steps[0]], steps[1:])
