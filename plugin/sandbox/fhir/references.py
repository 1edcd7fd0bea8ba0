"""Local references (``Patient/123``) and the patient compartment of a resource, pure."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

__all__ = [
    "COMPARTMENT_ELEMENTS",
    "ID_PATTERN",
    "iter_references",
    "local_reference",
    "patient_reference_ids",
]

#: FHIR id: 1–64 of A–Z, a–z, 0–9, "-" and ".".
ID_PATTERN = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_RELATIVE = re.compile(r"(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})(?:/_history/\d+)?")

#: Elements that put a resource in a patient's compartment (FHIR R4 CompartmentDefinition
#: "patient", reduced to the elements the sandbox's resource types use).
COMPARTMENT_ELEMENTS: dict[str, tuple[str, ...]] = {
    "AllergyIntolerance": ("patient",),
    "Condition": ("subject",),
    "DiagnosticReport": ("subject",),
    "DocumentReference": ("subject",),
    "Encounter": ("subject",),
    "ImagingStudy": ("subject",),
    "MedicationRequest": ("subject",),
    "MedicationStatement": ("subject",),
    "Observation": ("subject",),
    "Procedure": ("subject",),
    "Provenance": ("target",),
    "ServiceRequest": ("subject",),
}


def local_reference(reference: str, fhir_base: str) -> tuple[str, str] | None:
    """``(type, id)`` of a reference to this server (relative, or absolute under its base)."""
    text = reference
    if "://" in text:
        prefix = fhir_base.rstrip("/") + "/"
        if not text.startswith(prefix):
            return None
        text = text[len(prefix) :]
    match = _RELATIVE.fullmatch(text)
    return (match["type"], match["id"]) if match else None


def iter_references(value: Any) -> Iterator[dict[str, Any]]:
    """Every Reference-shaped object (a dict with a string ``reference``) inside `value`."""
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            yield value
        for item in value.values():
            yield from iter_references(item)
    elif isinstance(value, list):
        for item in value:
            yield from iter_references(item)


def patient_reference_ids(resource: dict[str, Any], fhir_base: str) -> list[str]:
    """Ids of the patients a resource's compartment elements point at (a Patient: itself)."""
    resource_type = resource.get("resourceType")
    if resource_type == "Patient":
        return [str(resource["id"])] if resource.get("id") else []
    found: list[str] = []
    for element in COMPARTMENT_ELEMENTS.get(str(resource_type), ()):
        values = resource.get(element)
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, dict) and isinstance(value.get("reference"), str):
                local = local_reference(value["reference"], fhir_base)
                if local is not None and local[0] == "Patient" and local[1] not in found:
                    found.append(local[1])
    return found
