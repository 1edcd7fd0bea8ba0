"""Which chart records count at all, and which conditions and allergies are current.

FHIR marks records that never happened or were recorded in error with a status; those are no
evidence of anything and are dropped before any criterion looks at the chart. Whether a record
is *current* (an active condition, an allergy still held) is a separate question asked by the
criteria that care about it — a resolved fusion-history condition still documents the fusion.
Status codes are those of the R4 value sets named beside each entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugin.candidacy.value_sets import codings

__all__ = ["clinical_status", "is_current", "is_void", "status"]

#: Resource status values meaning "did not happen" or "recorded in error".
_VOID_STATUS: dict[str, frozenset[str]] = {
    "Observation": frozenset({"entered-in-error", "cancelled"}),  # observation-status
    "DiagnosticReport": frozenset({"entered-in-error", "cancelled"}),  # diagnostic-report-status
    "ImagingStudy": frozenset({"entered-in-error", "cancelled"}),  # imagingstudy-status
    "Procedure": frozenset({"entered-in-error", "not-done"}),  # event-status
    "Encounter": frozenset({"entered-in-error", "cancelled"}),  # encounter-status
    "ServiceRequest": frozenset({"entered-in-error", "revoked"}),  # request-status
    "MedicationRequest": frozenset({"entered-in-error", "cancelled", "draft"}),
    "MedicationStatement": frozenset({"entered-in-error", "not-taken", "intended"}),
    "Condition": frozenset(),  # verificationStatus carries it (below)
    "AllergyIntolerance": frozenset(),
    "Patient": frozenset(),
    "Medication": frozenset({"entered-in-error"}),
}
#: verificationStatus values meaning the condition or allergy is not the patient's.
_VOID_VERIFICATION = frozenset({"entered-in-error", "refuted"})
#: clinicalStatus values meaning the condition or allergy no longer applies
#: (condition-clinical: inactive, remission, resolved; allergyintolerance-clinical: inactive,
#: resolved).
_NOT_CURRENT = frozenset({"inactive", "remission", "resolved"})


def status(resource: Mapping[str, Any]) -> str | None:
    value = resource.get("status")
    return value if isinstance(value, str) else None


def _concept_code(concept: Any) -> str | None:
    for coding in codings(concept):
        code = coding.get("code")
        if isinstance(code, str):
            return code
    # Some EHRs send the status as text only.
    if isinstance(concept, Mapping) and isinstance(concept.get("text"), str):
        return str(concept["text"]).strip().lower()
    return None


def clinical_status(resource: Mapping[str, Any]) -> str | None:
    """The clinicalStatus code of a Condition or AllergyIntolerance, if given."""
    return _concept_code(resource.get("clinicalStatus"))


def is_void(resource: Mapping[str, Any], kind: str | None = None) -> bool:
    """True for a record that is no evidence at all: entered in error, refuted, cancelled,
    not done, not taken. `kind` saves looking up the resourceType when the caller has it."""
    if kind is None:
        kind = str(resource.get("resourceType"))
    voided = _VOID_STATUS.get(kind)
    if voided:
        value = resource.get("status")
        if isinstance(value, str) and value in voided:
            return True
    if kind in ("Condition", "AllergyIntolerance"):
        return _concept_code(resource.get("verificationStatus")) in _VOID_VERIFICATION
    return False


def is_current(resource: Mapping[str, Any]) -> bool:
    """A Condition or AllergyIntolerance that still applies. A missing clinicalStatus is taken
    as current: R4 requires it, but many EHRs omit it on problem-list entries."""
    return clinical_status(resource) not in _NOT_CURRENT
