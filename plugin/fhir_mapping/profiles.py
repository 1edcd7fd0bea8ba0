"""The product's StructureDefinition canonicals, claimed in each resource's ``meta.profile``."""

from __future__ import annotations

from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.meta import Meta

from plugin.terminology import CANONICAL_BASE

__all__ = [
    "DIAGNOSTIC_REPORT_PROFILE",
    "DOCUMENT_REFERENCE_PROFILE",
    "LEVEL_OBSERVATION_PROFILE",
    "PROCEDURE_PROFILE",
    "PROVENANCE_PROFILE",
    "profile_meta",
    "profile_url",
]

LEVEL_OBSERVATION_PROFILE = "discography-level-observation"
PROCEDURE_PROFILE = "discography-procedure"
DIAGNOSTIC_REPORT_PROFILE = "discography-diagnostic-report"
DOCUMENT_REFERENCE_PROFILE = "discography-document-reference"
PROVENANCE_PROFILE = "discography-provenance"


def profile_url(profile_id: str) -> str:
    return f"{CANONICAL_BASE}/StructureDefinition/{profile_id}"


def profile_meta(profile_id: str, *, tag: Coding | None = None) -> Meta:
    return Meta(profile=[profile_url(profile_id)], tag=[tag] if tag is not None else None)
