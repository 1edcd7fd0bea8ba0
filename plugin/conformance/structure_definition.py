"""A profile, as written in Python, and the StructureDefinition resource published for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from plugin.conformance.base_elements import ElementDefinition
from plugin.conformance.canonicals import (
    CONFORMANCE_DATE,
    CONFORMANCE_VERSION,
    PUBLISHER,
    base_definition_url,
)
from plugin.conformance.snapshot import build_snapshot, in_specification_order
from plugin.fhir_mapping.profiles import profile_url

__all__ = ["Profile", "structure_definition"]


@dataclass(frozen=True, slots=True)
class Profile:
    id: str
    type: str  # the constrained resource type
    name: str  # computable name: DiscographyLevelObservation
    title: str
    description: str
    differential: tuple[ElementDefinition, ...]

    @property
    def url(self) -> str:
        return profile_url(self.id)


def structure_definition(profile: Profile) -> dict[str, Any]:
    """The StructureDefinition of `profile`, with its differential and generated snapshot."""
    return {
        "resourceType": "StructureDefinition",
        "id": profile.id,
        "url": profile.url,
        "version": CONFORMANCE_VERSION,
        "name": profile.name,
        "title": profile.title,
        "status": "active",
        "experimental": False,
        "date": CONFORMANCE_DATE,
        "publisher": PUBLISHER,
        "description": profile.description,
        "fhirVersion": "4.0.1",
        "kind": "resource",
        "abstract": False,
        "type": profile.type,
        "baseDefinition": base_definition_url(profile.type),
        "derivation": "constraint",
        "snapshot": {"element": build_snapshot(profile.type, profile.differential, profile.url)},
        "differential": {
            "element": [in_specification_order(element) for element in profile.differential]
        },
    }
