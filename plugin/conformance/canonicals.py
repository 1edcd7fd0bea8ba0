"""Canonical URLs and the version of the conformance package.

The profile canonicals and identifier systems are the mapper's (`plugin.fhir_mapping.profiles`,
`plugin.fhir_mapping.identifiers`): the resources the product writes and the package that
describes them name them from one place.
"""

from __future__ import annotations

from plugin.terminology import CANONICAL_BASE

__all__ = [
    "CONFORMANCE_DATE",
    "CONFORMANCE_VERSION",
    "HL7_STRUCTURE_DEFINITION",
    "PUBLISHER",
    "base_definition_url",
    "capability_statement_url",
    "value_set_url",
]

#: Version of every artefact in the package; bump it (and the date) when a profile changes.
CONFORMANCE_VERSION = "1.1.0"
#: Publication date of CONFORMANCE_VERSION. Fixed, not "today", so the build is reproducible.
CONFORMANCE_DATE = "2026-12-07"
PUBLISHER = "Discography plugin"

HL7_STRUCTURE_DEFINITION = "http://hl7.org/fhir/StructureDefinition/"


def value_set_url(value_set_id: str) -> str:
    return f"{CANONICAL_BASE}/ValueSet/{value_set_id}"


def capability_statement_url(statement_id: str) -> str:
    return f"{CANONICAL_BASE}/CapabilityStatement/{statement_id}"


def base_definition_url(type_name: str) -> str:
    """The HL7 definition of a core type:
    ``Observation`` → ``http://hl7.org/fhir/StructureDefinition/Observation``."""
    return f"{HL7_STRUCTURE_DEFINITION}{type_name}"
