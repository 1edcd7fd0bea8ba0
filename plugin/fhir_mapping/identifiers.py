"""Business identifiers of the resources mapped from one study, and what follows from them:
the transaction entry's ``fullUrl`` and its conditional-create query.

Identifiers are derived from the study alone, so mapping the same study twice gives the same
identifiers and a server that honours ``ifNoneExist`` creates each resource once.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.reference import Reference

from plugin.study.model import Study
from plugin.terminology import CANONICAL_BASE

__all__ = [
    "IDENTIFIER_SYSTEM",
    "SOFTWARE_IDENTIFIER_SYSTEM",
    "ResourceIdentity",
    "StudyIdentifiers",
    "study_identifiers",
    "study_key",
]

#: System of every business identifier (and of the Provenance tag) the product writes.
IDENTIFIER_SYSTEM = f"{CANONICAL_BASE}/identifier/discography"
#: System identifying the product itself as a software agent.
SOFTWARE_IDENTIFIER_SYSTEM = f"{CANONICAL_BASE}/identifier/software"

_DIGEST_HEX_CHARS = 32


def study_key(study: Study) -> str:
    """``study.id`` when present, else ``sha256-`` and the first 32 hex digits of the SHA-256
    of the study's canonical JSON (keys sorted, no whitespace)."""
    if study.id is not None:
        return study.id
    canonical = json.dumps(study.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"sha256-{digest[:_DIGEST_HEX_CHARS]}"


@dataclass(frozen=True, slots=True)
class ResourceIdentity:
    """One resource's identifier value and how a transaction names and conditionally creates
    it. `search_parameter` is ``identifier``, or ``_tag`` for Provenance (no identifier in R4)."""

    value: str
    search_parameter: str = "identifier"

    @property
    def token(self) -> str:
        return f"{IDENTIFIER_SYSTEM}|{self.value}"

    @property
    def full_url(self) -> str:
        # uuid5 of the token: stable across mappings, distinct across resources and studies.
        return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, self.token)}"

    @property
    def if_none_exist(self) -> str:
        return f"{self.search_parameter}={self.token}"

    def identifier(self) -> Identifier:
        return Identifier(system=IDENTIFIER_SYSTEM, value=self.value)

    def reference(self) -> Reference:
        """A reference to the resource from another entry of the same transaction."""
        return Reference(reference=self.full_url)


@dataclass(frozen=True, slots=True)
class StudyIdentifiers:
    key: str
    procedure: ResourceIdentity
    levels: Mapping[str, ResourceIdentity]  # by level name, in the study's level order
    report: ResourceIdentity
    document: ResourceIdentity
    provenance: ResourceIdentity


def study_identifiers(study: Study) -> StudyIdentifiers:
    key = study_key(study)
    levels = {lv.level: ResourceIdentity(f"{key}.level.{lv.level}") for lv in study.levels}
    return StudyIdentifiers(
        key=key,
        procedure=ResourceIdentity(f"{key}.procedure"),
        levels=MappingProxyType(levels),
        report=ResourceIdentity(f"{key}.report"),
        document=ResourceIdentity(f"{key}.document"),
        provenance=ResourceIdentity(f"{key}.provenance", search_parameter="_tag"),
    )
