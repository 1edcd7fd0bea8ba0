"""What the patient page shows of the patient and the user, read from FHIR resources (pure).

The patient banner (name, birth date, administrative gender) is shown when the EHR says
`need_patient_banner` is true. The user is named from the `fhirUser` resource (Practitioner,
PractitionerRole, Patient, RelatedPerson or Person).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FHIR_USER_TYPES",
    "PatientBanner",
    "fhir_user_target",
    "human_name",
    "patient_banner",
    "user_name",
]

FHIR_USER_TYPES = ("Practitioner", "PractitionerRole", "Patient", "RelatedPerson", "Person")
_REFERENCE = re.compile(r"(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})")
_NAME_USE_ORDER = ("official", "usual", None, "nickname", "anonymous", "temp", "old", "maiden")


@dataclass(frozen=True, slots=True)
class PatientBanner:
    id: str
    name: str
    birth_date: str | None  # FHIR date as the EHR sent it (YYYY, YYYY-MM or YYYY-MM-DD)
    gender: str | None  # administrative gender code: male | female | other | unknown


def human_name(names: object) -> str | None:
    """The best HumanName as one line: `text` if given, else prefix given family suffix."""
    if not isinstance(names, list):
        return None
    candidates = [n for n in names if isinstance(n, Mapping)]
    if not candidates:
        return None

    def rank(name: Mapping[str, Any]) -> int:
        use = name.get("use")
        return _NAME_USE_ORDER.index(use) if use in _NAME_USE_ORDER else len(_NAME_USE_ORDER)

    best = min(candidates, key=rank)
    text = best.get("text")
    if isinstance(text, str) and text.strip():
        return text.strip()
    parts: list[str] = []
    for key in ("prefix", "given"):
        parts += [p for p in best.get(key) or [] if isinstance(p, str)]
    family = best.get("family")
    if isinstance(family, str):
        parts.append(family)
    parts += [p for p in best.get("suffix") or [] if isinstance(p, str)]
    joined = " ".join(p.strip() for p in parts if p.strip())
    return joined or None


def patient_banner(patient: Mapping[str, Any]) -> PatientBanner:
    birth_date = patient.get("birthDate")
    gender = patient.get("gender")
    return PatientBanner(
        id=str(patient.get("id", "")),
        name=human_name(patient.get("name")) or "(no name recorded)",
        birth_date=birth_date if isinstance(birth_date, str) else None,
        gender=gender if isinstance(gender, str) else None,
    )


def user_name(resource: Mapping[str, Any]) -> str | None:
    if resource.get("resourceType") == "PractitionerRole":
        practitioner = resource.get("practitioner")
        display = practitioner.get("display") if isinstance(practitioner, Mapping) else None
        return display if isinstance(display, str) and display.strip() else None
    return human_name(resource.get("name"))


def fhir_user_target(fhir_user: str, fhir_base: str) -> tuple[str, str] | None:
    """(type, id) of a `fhirUser` claim — a URL absolute or relative to the FHIR base — or
    None when it is not a user resource on this FHIR server (the access token is not sent to
    another server)."""
    base = fhir_base.rstrip("/") + "/"
    if "://" in fhir_user:
        if not fhir_user.startswith(base):
            return None
        relative = fhir_user[len(base) :]
    else:
        relative = fhir_user.lstrip("/")
    match = _REFERENCE.fullmatch(relative)
    if match is None or match["type"] not in FHIR_USER_TYPES:
        return None
    return match["type"], match["id"]
