"""SMART scopes as the sandbox authorization server reads them (App Launch 2.2 §Scopes and
Launch Context), pure.

Deliberately written apart from the app's own scope code, so the sandbox checks the app
instead of sharing its mistakes. v1 suffixes map to v2 letters: ``read`` → ``rs``, ``write``
→ ``cud``, ``*`` → ``cruds``. v2 letters must appear in the order c, r, u, d, s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qsl

__all__ = [
    "CONTEXT_SCOPES",
    "IDENTITY_SCOPES",
    "REFRESH_SCOPES",
    "Permission",
    "ResourceScope",
    "ScopeSet",
    "grantable",
]


class Permission(StrEnum):
    CREATE = "c"
    READ = "r"
    UPDATE = "u"
    DELETE = "d"
    SEARCH = "s"


CONTEXT_SCOPES = frozenset({"launch", "launch/patient", "launch/encounter"})
IDENTITY_SCOPES = frozenset({"openid", "fhirUser", "profile"})
REFRESH_SCOPES = frozenset({"offline_access", "online_access"})

_V1 = {
    "read": frozenset({Permission.READ, Permission.SEARCH}),
    "write": frozenset({Permission.CREATE, Permission.UPDATE, Permission.DELETE}),
    "*": frozenset(Permission),
}
_V2 = re.compile(r"c?r?u?d?s?")
_RESOURCE = re.compile(
    r"(?P<level>patient|user|system)/(?P<type>\*|[A-Z][A-Za-z]+)\.(?P<perms>\*|[a-z]+)"
    r"(?:\?(?P<query>.+))?"
)


@dataclass(frozen=True, slots=True)
class ResourceScope:
    """One resource scope: ``patient/Observation.rs?category=laboratory``."""

    text: str
    level: str  # patient | user | system
    resource_type: str  # a FHIR type, or "*"
    permissions: frozenset[Permission]
    query: tuple[tuple[str, str], ...]  # granular constraint, as search parameters

    @classmethod
    def parse(cls, text: str) -> ResourceScope | None:
        match = _RESOURCE.fullmatch(text)
        if match is None:
            return None
        perms = match["perms"]
        if perms in _V1:
            permissions = _V1[perms]
        elif perms and _V2.fullmatch(perms):
            permissions = frozenset(Permission(letter) for letter in perms)
        else:
            return None
        query = tuple(parse_qsl(match["query"] or "", keep_blank_values=True))
        return cls(text, match["level"], match["type"], permissions, query)

    def permits(self, permission: Permission, resource_type: str) -> bool:
        return permission in self.permissions and self.resource_type in ("*", resource_type)


def grantable(scope: str) -> bool:
    """Whether the sandbox understands and may grant `scope` in an authorization code flow
    (system/ scopes belong to backend services, not to a user's launch)."""
    if scope in CONTEXT_SCOPES or scope in IDENTITY_SCOPES or scope in REFRESH_SCOPES:
        return True
    parsed = ResourceScope.parse(scope)
    return parsed is not None and parsed.level in ("patient", "user")


@dataclass(frozen=True, slots=True)
class ScopeSet:
    """A granted scope string, read for access decisions."""

    scopes: tuple[str, ...]
    resource_scopes: tuple[ResourceScope, ...]

    @classmethod
    def parse(cls, scope: str) -> ScopeSet:
        scopes = tuple(dict.fromkeys(scope.split()))
        parsed = (ResourceScope.parse(s) for s in scopes)
        return cls(scopes, tuple(p for p in parsed if p is not None))

    def __contains__(self, scope: object) -> bool:
        return scope in self.scopes

    def permitting(self, permission: Permission, resource_type: str) -> list[ResourceScope]:
        """Resource scopes that allow `permission` on `resource_type` (maybe constrained)."""
        return [s for s in self.resource_scopes if s.permits(permission, resource_type)]

    @property
    def text(self) -> str:
        return " ".join(self.scopes)
