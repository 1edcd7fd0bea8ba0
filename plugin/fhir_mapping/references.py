"""The study's references to the chart (patient, encounter, performer, reasons) as FHIR
References, and the check that each names a resource type its target elements accept.

Only literal references (``Patient/123`` or an absolute URL ending in ``Patient/123``) are
accepted: a ``urn:uuid:`` or ``#contained`` reference cannot resolve inside our transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fhir.resources.R4B.reference import Reference

from plugin.errors import Problem
from plugin.study.model import Reference as StudyReference
from plugin.study.model import Study

__all__ = [
    "ALLOWED_TARGETS",
    "ChartReferences",
    "chart_references",
    "reference_problems",
    "referenced_type",
]

# The resource types every element receiving the reference accepts in R4 (e.g. the performer
# goes to Observation.performer, Procedure.performer.actor, DiagnosticReport.performer and
# .resultsInterpreter, DocumentReference.author and Provenance.agent.who).
ALLOWED_TARGETS: dict[str, tuple[str, ...]] = {
    "patient": ("Patient",),
    "encounter": ("Encounter",),
    "performer": ("Practitioner", "PractitionerRole", "Organization"),
    "indication.reason_references": (
        "Condition",
        "Observation",
        "Procedure",
        "DiagnosticReport",
        "DocumentReference",
    ),
}

# FHIR R4 literal reference (Reference.reference, ref-1 style): [base/]Type/id[/_history/vid].
_LITERAL = re.compile(
    r"^(?:https?://[^\s/?#]+(?:/[^\s/?#]+)*/)?"
    r"(?P<type>[A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?$"
)


def referenced_type(reference: str) -> str | None:
    """The resource type a literal reference names, or None when it is not one."""
    match = _LITERAL.match(reference)
    return match["type"] if match else None


def reference_problems(study: Study) -> list[Problem]:
    problems: list[Problem] = []
    single = {"patient": study.patient, "encounter": study.encounter, "performer": study.performer}
    for field, value in single.items():
        if value is not None:
            problems.extend(_problems(field, value, ALLOWED_TARGETS[field]))
    if study.indication is not None:
        field = "indication.reason_references"
        for index, value in enumerate(study.indication.reason_references):
            problems.extend(_problems(f"{field}[{index}]", value, ALLOWED_TARGETS[field]))
    return problems


def _problems(field: str, value: StudyReference, allowed: tuple[str, ...]) -> list[Problem]:
    kind = referenced_type(value.reference)
    example = f"'{allowed[0]}/123'"
    if kind is None:
        return [
            Problem(
                f"{field}.reference",
                "literal-reference",
                f"must be a literal reference such as {example} or an absolute URL ending in "
                f"one (got {value.reference!r})",
            )
        ]
    if kind not in allowed:
        return [
            Problem(
                f"{field}.reference",
                "reference-type",
                f"must reference a {' or '.join(allowed)} (got a {kind})",
            )
        ]
    return []


@dataclass(frozen=True, slots=True)
class ChartReferences:
    patient: Reference
    encounter: Reference | None
    performer: Reference | None
    reasons: tuple[Reference, ...]


def chart_references(study: Study) -> ChartReferences:
    """The references of a study that has a patient (checked by the caller)."""
    if study.patient is None:
        raise ValueError("chart_references needs a study with a patient")
    reasons = study.indication.reason_references if study.indication is not None else []
    return ChartReferences(
        patient=_fhir(study.patient),
        encounter=_fhir(study.encounter) if study.encounter is not None else None,
        performer=_fhir(study.performer) if study.performer is not None else None,
        reasons=tuple(_fhir(reason) for reason in reasons),
    )


def _fhir(value: StudyReference) -> Reference:
    return Reference(reference=value.reference, display=value.display)
