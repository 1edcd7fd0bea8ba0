"""Provenance of the mapped resources: authored by the performer, assembled by the product."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from importlib import metadata

from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.provenance import Provenance, ProvenanceAgent
from fhir.resources.R4B.reference import Reference

from plugin.fhir_mapping.coding import (
    PROVENANCE_ACTIVITY_CREATE,
    PROVENANCE_AGENT_ASSEMBLER,
    PROVENANCE_AGENT_AUTHOR,
    hl7_concept,
)
from plugin.fhir_mapping.identifiers import (
    IDENTIFIER_SYSTEM,
    SOFTWARE_IDENTIFIER_SYSTEM,
    ResourceIdentity,
)
from plugin.fhir_mapping.profiles import PROVENANCE_PROFILE, profile_meta
from plugin.fhir_mapping.references import ChartReferences

__all__ = ["SOFTWARE_NAME", "installed_version", "provenance"]

#: The distribution name, also the software agent's identifier value.
SOFTWARE_NAME = "discography-plugin"


@cache
def installed_version() -> str:
    """The installed product's version (from its package metadata, read once)."""
    try:
        return metadata.version(SOFTWARE_NAME)
    except metadata.PackageNotFoundError:
        return "(version unknown: not installed)"


def provenance(
    *,
    identity: ResourceIdentity,
    targets: Sequence[ResourceIdentity],
    chart: ChartReferences,
    recorded: datetime,
    software_version: str,
) -> Provenance:
    # R4 Provenance has no identifier: a meta.tag carries the business key instead, and the
    # transaction's conditional create searches on it.
    tag = Coding(system=IDENTIFIER_SYSTEM, code=identity.value)
    agents = []
    if chart.performer is not None:
        agents.append(
            ProvenanceAgent(type=hl7_concept(PROVENANCE_AGENT_AUTHOR), who=chart.performer)
        )
    agents.append(
        ProvenanceAgent(
            type=hl7_concept(PROVENANCE_AGENT_ASSEMBLER),
            who=Reference(
                identifier=Identifier(system=SOFTWARE_IDENTIFIER_SYSTEM, value=SOFTWARE_NAME),
                display=f"Discography plugin {software_version}",
            ),
        )
    )
    return Provenance(
        meta=profile_meta(PROVENANCE_PROFILE, tag=tag),
        target=[target.reference() for target in targets],
        recorded=recorded,
        activity=hl7_concept(PROVENANCE_ACTIVITY_CREATE),
        agent=agents,
    )
