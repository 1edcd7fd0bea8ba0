"""SMART scopes (App Launch 2.2 §Scopes and Launch Context), pure.

What the app asks for (`requested_scopes`) and what the EHR actually granted (`GrantedAccess`,
parsed from the token response's `scope`, which may be narrower, split differently or spelled
in v1 even when v2 was asked — never assume the request was granted as sent).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "CREATED_TYPES",
    "READ_TYPES",
    "UPDATED_TYPES",
    "GrantedAccess",
    "Interaction",
    "LaunchKind",
    "ResourceGrant",
    "requested_scopes",
]

#: What the product reads from the chart (candidacy, banner, the user's name, prior reports).
READ_TYPES: tuple[str, ...] = (
    "Patient",
    "Condition",
    "Procedure",
    "ServiceRequest",
    "Encounter",
    "MedicationRequest",
    "MedicationStatement",
    "AllergyIntolerance",
    "Observation",
    "DiagnosticReport",
    "ImagingStudy",
    "DocumentReference",
    "Practitioner",
    # The signed-in user's role when the EHR names a PractitionerRole as fhirUser: the report
    # credits the attester with it.
    "PractitionerRole",
    # Read back only to check the product's own Provenance before filing it again.
    "Provenance",
)
#: What the product writes back (the report and its structured results).
CREATED_TYPES: tuple[str, ...] = (
    "Procedure",
    "Observation",
    "DiagnosticReport",
    "DocumentReference",
    "Provenance",
)
#: What an amendment updates in place (`amended` results; the replaced note `superseded`).
#: Never Provenance: each version files its own.
UPDATED_TYPES: tuple[str, ...] = (
    "Procedure",
    "Observation",
    "DiagnosticReport",
    "DocumentReference",
)


class LaunchKind(StrEnum):
    EHR = "ehr"  # opened by the EHR with `iss` and `launch`
    STANDALONE = "standalone"  # opened by the user; the EHR picks the patient


class Interaction(StrEnum):
    """The v2 permission letters, in their mandatory order "cruds"."""

    CREATE = "c"
    READ = "r"
    UPDATE = "u"
    DELETE = "d"
    SEARCH = "s"


_ORDER = "cruds"
_V1 = {
    "read": frozenset({Interaction.READ, Interaction.SEARCH}),
    "write": frozenset({Interaction.CREATE, Interaction.UPDATE, Interaction.DELETE}),
    "*": frozenset(Interaction),
}
_V2 = re.compile(r"c?r?u?d?s?")
_RESOURCE_SCOPE = re.compile(
    r"(?P<compartment>patient|user|system)/(?P<type>[A-Z][A-Za-z]*|\*)\.(?P<perms>[a-z]+|\*)"
    r"(?:\?(?P<constraint>.+))?"
)
# Appendix "URI representation of scopes": the same scopes under these prefixes.
_URI_PREFIXES = (
    "http://smarthealthit.org/fhir/scopes/",
    "http://openid.net/specs/openid-connect-core-1_0#",
)


def requested_scopes(
    capabilities: Collection[str],
    kind: LaunchKind,
    override: Sequence[str] | None = None,
) -> list[str]:
    """The scopes to request: v2 spelling when the server advertises `permission-v2`, else v1.

    A registration's `scopes` replaces the computed list, but the launch-context scope the
    flow depends on (`launch` or `launch/patient`) is always present.
    """
    context = "launch" if kind is LaunchKind.EHR else "launch/patient"
    if override is not None:
        scopes = list(dict.fromkeys(override))
        return scopes if context in scopes else [context, *scopes]
    refresh = (
        "online_access"
        if "permission-online" in capabilities and "permission-offline" not in capabilities
        else "offline_access"
    )
    scopes = [context, "openid", "fhirUser", refresh]
    if "permission-v2" in capabilities:
        scopes += [f"patient/{t}.rs" for t in READ_TYPES]
        scopes += [f"patient/{t}.c" for t in CREATED_TYPES]
        # Separate from `.c`: an EHR may grant creating without updating; signing needs only
        # the former, and an amendment without `.u` still files its new note.
        scopes += [f"patient/{t}.u" for t in UPDATED_TYPES]
    else:
        scopes += [f"patient/{t}.read" for t in READ_TYPES]
        # v1 `write` is create, update and delete together: it already covers amendments.
        scopes += [f"patient/{t}.write" for t in CREATED_TYPES]
    return scopes


@dataclass(frozen=True, slots=True)
class ResourceGrant:
    """One granted resource scope, normalised to v2 letters."""

    compartment: str  # patient | user | system
    resource_type: str  # a FHIR type or "*"
    interactions: frozenset[Interaction]
    constraint: str | None  # the granular `?param=value…` suffix, if any

    def covers(self, resource_type: str, interaction: Interaction) -> bool:
        return self.resource_type in ("*", resource_type) and interaction in self.interactions


def _interactions(perms: str) -> frozenset[Interaction] | None:
    if perms in _V1:
        return _V1[perms]
    # v2: a non-empty subset of "cruds" in that order; anything else is not understood and is
    # treated as granting nothing rather than guessed at.
    if not perms or not _V2.fullmatch(perms):
        return None
    return frozenset(Interaction(letter) for letter in _ORDER if letter in perms)


def _strip_uri_prefix(scope: str) -> str:
    for prefix in _URI_PREFIXES:
        if scope.startswith(prefix):
            return scope[len(prefix) :]
    return scope


@dataclass(frozen=True, slots=True)
class GrantedAccess:
    """The access an EHR granted, read from the token response's `scope`."""

    scopes: tuple[str, ...]
    grants: tuple[ResourceGrant, ...]
    launch_context: frozenset[str]  # launch, launch/patient, launch/encounter, …
    openid: bool
    fhir_user: bool
    offline_access: bool
    online_access: bool
    unrecognised: tuple[str, ...]

    @classmethod
    def parse(cls, scope: str) -> GrantedAccess:
        scopes = tuple(dict.fromkeys(scope.split()))
        grants: list[ResourceGrant] = []
        context: set[str] = set()
        unrecognised: list[str] = []
        for raw in scopes:
            item = _strip_uri_prefix(raw)
            if item == "launch" or item.startswith("launch/"):
                context.add(item)
                continue
            if item in ("openid", "fhirUser", "offline_access", "online_access"):
                continue
            match = _RESOURCE_SCOPE.fullmatch(item)
            interactions = _interactions(match["perms"]) if match else None
            if match is None or interactions is None:
                unrecognised.append(raw)
                continue
            grants.append(
                ResourceGrant(
                    match["compartment"], match["type"], interactions, match["constraint"]
                )
            )
        plain = {_strip_uri_prefix(s) for s in scopes}
        return cls(
            scopes=scopes,
            grants=tuple(grants),
            launch_context=frozenset(context),
            openid="openid" in plain,
            fhir_user="fhirUser" in plain,
            offline_access="offline_access" in plain,
            online_access="online_access" in plain,
            unrecognised=tuple(unrecognised),
        )

    def can(self, resource_type: str, interaction: Interaction) -> bool:
        """Whether some grant allows `interaction` on every resource of the type."""
        return any(
            g.constraint is None and g.covers(resource_type, interaction) for g in self.grants
        )

    def constraints(self, resource_type: str, interaction: Interaction) -> tuple[str, ...]:
        """The granular constraints under which `interaction` is allowed only partly."""
        return tuple(
            g.constraint
            for g in self.grants
            if g.constraint is not None and g.covers(resource_type, interaction)
        )

    def can_read(self, resource_type: str) -> bool:
        return self.can(resource_type, Interaction.READ)

    def can_search(self, resource_type: str) -> bool:
        return self.can(resource_type, Interaction.SEARCH)

    def can_create(self, resource_type: str) -> bool:
        return self.can(resource_type, Interaction.CREATE)

    @property
    def refresh_allowed(self) -> bool:
        return self.offline_access or self.online_access
