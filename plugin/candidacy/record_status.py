"""Which chart records count at all, and which conditions and allergies are current.

FHIR marks records that never happened or were recorded in error with a status; those are no
evidence of anything and are dropped before any criterion looks at the chart. Whether a record
is *current* (an active condition, an allergy still held) is a separate question asked by the
criteria that care about it — a resolved fusion-history condition still documents the fusion.
Status codes are those of the R4 value sets named beside each entry.

These elements decide whether a record counts, so one whose JSON type is wrong is not read as
absent: a status that cannot be read might say "entered-in-error", and guessing would let such
a record count. `unreadable_status` names it; the chart reports it as bad input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from plugin.candidacy.value_sets import codings

__all__ = [
    "STATUS_BEYOND_STATUS",
    "clinical_status",
    "describes_family_history",
    "is_current",
    "is_established",
    "is_void",
    "status",
    "unreadable_status",
]

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
#: verificationStatus values (condition-ver-status) short of an established diagnosis: enough
#: to raise a concern, not to switch a safety check off.
_NOT_ESTABLISHED = frozenset({"unconfirmed", "provisional", "differential"})
#: Wording of a problem-list entry about a relative ("Family history of early menopause",
#: "FH of hysterectomy", "FHx: …"): R4 keeps family history in FamilyMemberHistory, but EHRs
#: also chart it as a Condition of the patient, which it is not.
_FAMILY_HISTORY = re.compile(
    r"\bfamily\s+(?:medical\s+)?(?:history|hx)\b|\bfhx?\s*(?:of\b|:)", re.I
)
#: clinicalStatus values meaning the condition or allergy no longer applies
#: (condition-clinical: inactive, remission, resolved; allergyintolerance-clinical: inactive,
#: resolved).
_NOT_CURRENT = frozenset({"inactive", "remission", "resolved"})
#: Resource types whose `intent` decides whether a record counts (a "proposal" does not).
_INTENT_READ = frozenset({"MedicationRequest"})
#: Request types with R4's modifier element `doNotPerform`: true turns "give warfarin" into
#: "do not give warfarin", so such a request is no evidence of the drug or service being given.
_DO_NOT_PERFORM_READ = frozenset({"MedicationRequest", "ServiceRequest"})
_CODED_STATUS = ("clinicalStatus", "verificationStatus")

#: Types whose records count or not by more than a `status` string (`unreadable_status` must
#: read them whatever their status); for the others a string status is readable as it is.
STATUS_BEYOND_STATUS = frozenset(
    {*_INTENT_READ, *_DO_NOT_PERFORM_READ, "Condition", "AllergyIntolerance"}
)


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
    not done, not taken, or a request not to do it (doNotPerform). `kind` saves looking up the
    resourceType when the caller has it."""
    if kind is None:
        kind = str(resource.get("resourceType"))
    if kind in _DO_NOT_PERFORM_READ and resource.get("doNotPerform") is True:
        return True
    voided = _VOID_STATUS.get(kind)
    if voided:
        value = resource.get("status")
        if isinstance(value, str) and value in voided:
            return True
    if kind in ("Condition", "AllergyIntolerance"):
        return _concept_code(resource.get("verificationStatus")) in _VOID_VERIFICATION
    return False


def is_established(resource: Mapping[str, Any]) -> bool:
    """A Condition or AllergyIntolerance that counts and is not merely suspected: not void,
    and not unconfirmed, provisional or differential. A missing verificationStatus is taken
    as established: R4 makes it optional."""
    if is_void(resource):
        return False
    return _concept_code(resource.get("verificationStatus")) not in _NOT_ESTABLISHED


def describes_family_history(texts: Iterable[str]) -> bool:
    """True when a record's words say it is about a relative, not the patient."""
    return any(_FAMILY_HISTORY.search(text) for text in texts)


def unreadable_status(resource: Mapping[str, Any], kind: str) -> tuple[str, str] | None:
    """(element, what it must be) for the first status element whose JSON type is wrong: a
    `status` or `intent` that is not a string, a `doNotPerform` not a boolean, a
    `clinicalStatus` or `verificationStatus` not a CodeableConcept of string codes, an
    `abatementBoolean` not a boolean. None when every
    one is absent or readable. A chart holds thousands of records: a string status, the common
    case, is decided first."""
    value = resource.get("status")
    # Types without a status element (Patient, Condition) do not read one.
    if (
        type(value) is not str
        and value is not None
        and _VOID_STATUS.get(kind)
        and not isinstance(value, str)
    ):
        return ("status", "a code (a JSON string)")
    if kind in _INTENT_READ:
        intent = resource.get("intent")
        if intent is not None and not isinstance(intent, str):
            return ("intent", "a code (a JSON string)")
    if kind in _DO_NOT_PERFORM_READ:
        forbidden = resource.get("doNotPerform")
        if forbidden is not None and not isinstance(forbidden, bool):
            return ("doNotPerform", "true or false")
    if kind == "Condition" or kind == "AllergyIntolerance":
        for element in _CODED_STATUS:
            wrong = _unreadable_concept(resource.get(element))
            if wrong is not None:
                return (f"{element}{wrong[0]}", wrong[1])
        abated = resource.get("abatementBoolean")
        if abated is not None and not isinstance(abated, bool):
            return ("abatementBoolean", "true or false")
    return None


def _unreadable_concept(concept: object) -> tuple[str, str] | None:
    """(path below a status CodeableConcept, what it must be) for a part whose JSON type is
    wrong — "" for the concept itself, ".coding[1].code"; None when the concept is absent or
    readable as `_concept_code` reads it."""
    if concept is None:
        return None
    if not isinstance(concept, Mapping):
        return ("", "a CodeableConcept (a JSON object)")
    coding = concept.get("coding")
    if coding is not None and not isinstance(coding, list):
        return (".coding", "a list of Codings")
    for index, item in enumerate(coding or ()):
        if not isinstance(item, Mapping):
            return (f".coding[{index}]", "a Coding (a JSON object)")
        code = item.get("code")
        if code is not None and not isinstance(code, str):
            return (f".coding[{index}].code", "a code (a JSON string)")
    text = concept.get("text")
    if text is not None and not isinstance(text, str):
        return (".text", "a JSON string")
    return None


def is_current(resource: Mapping[str, Any]) -> bool:
    """A Condition or AllergyIntolerance that still applies. A missing clinicalStatus is taken
    as current: R4 requires it, but many EHRs omit it on problem-list entries."""
    return clinical_status(resource) not in _NOT_CURRENT
