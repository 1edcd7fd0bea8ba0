"""Profile `discography-provenance`: who wrote the resources and with what software.

Provenance has no `identifier` in R4, so the product's stable key rides in meta.tag.
"""

from __future__ import annotations

from plugin.conformance.base_elements import ElementDefinition
from plugin.conformance.differential import (
    declares_profile,
    element,
    hl7_pattern,
    invariant,
    pattern_slicing,
)
from plugin.conformance.statuses import PROVENANCE_ACTIVITY, status_binding
from plugin.conformance.structure_definition import Profile
from plugin.fhir_mapping.coding import (
    PROVENANCE_AGENT_ASSEMBLER,
    PROVENANCE_AGENT_AUTHOR,
)
from plugin.fhir_mapping.identifiers import IDENTIFIER_SYSTEM, SOFTWARE_IDENTIFIER_SYSTEM
from plugin.fhir_mapping.profiles import PROVENANCE_PROFILE, profile_url
from plugin.fhir_mapping.provenance import SOFTWARE_NAME

__all__ = ["provenance_profile"]

_URL = profile_url(PROVENANCE_PROFILE)
_PROVENANCE = "Provenance"
_AGENT = f"{_PROVENANCE}.agent"


def provenance_profile() -> Profile:
    differential: list[ElementDefinition] = [
        element(
            _PROVENANCE,
            short="Provenance of a discography report",
            definition="Records which discography resources one signed version of the report "
            "wrote (created, or changed in an amendment), the clinician who authored them and "
            "the software that assembled them.",
            constraint=[
                declares_profile(_URL),
                invariant(
                    "dgm-prov-1",
                    f"meta.tag carries exactly one tag of system {IDENTIFIER_SYSTEM}, with a "
                    "code (the product's stable key for the Provenance)",
                    f"meta.tag.where(system = '{IDENTIFIER_SYSTEM}' and code.exists()).count() = 1",
                    _URL,
                ),
            ],
        ),
        element(
            f"{_PROVENANCE}.target",
            mustSupport=True,
            comment="Exactly the resources the version wrote: every resource of a first "
            "filing; in an amendment, those it updated, withdrew, superseded or created — "
            "never one it left unchanged.",
        ),
        element(f"{_PROVENANCE}.recorded", mustSupport=True),
        element(
            f"{_PROVENANCE}.activity",
            min=1,
            binding=status_binding(PROVENANCE_ACTIVITY),
            mustSupport=True,
        ),
        element(
            _AGENT,
            slicing={
                **pattern_slicing("type", "The author and the assembling software, by type"),
                "rules": "closed",
            },
            mustSupport=True,
        ),
        element(
            f"{_AGENT}:author",
            short="The clinician who performed and reported the study",
            max="1",
            mustSupport=True,
        ),
        element(
            f"{_AGENT}:author.type",
            min=1,
            patternCodeableConcept=hl7_pattern(PROVENANCE_AGENT_AUTHOR),
        ),
        element(
            f"{_AGENT}:assembler",
            short="The discography plugin",
            min=1,
            max="1",
            mustSupport=True,
        ),
        element(
            f"{_AGENT}:assembler.type",
            min=1,
            patternCodeableConcept=hl7_pattern(PROVENANCE_AGENT_ASSEMBLER),
        ),
        element(
            f"{_AGENT}:assembler.who",
            patternReference={
                "identifier": {"system": SOFTWARE_IDENTIFIER_SYSTEM, "value": SOFTWARE_NAME}
            },
        ),
    ]
    return Profile(
        id=PROVENANCE_PROFILE,
        type=_PROVENANCE,
        name="DiscographyProvenance",
        title="Provenance of a discography report",
        description="The Provenance written with each signed version of a discography report: "
        "the resources it wrote, CREATE (first filing) or UPDATE (amendment) activity, the "
        "author and the assembling software, and the product's key in meta.tag.",
        differential=tuple(differential),
    )
