"""What an EHR's CapabilityStatement (``GET [base]/metadata``) says its FHIR server supports,
and a cache so it is read once per server.

Parsing is tolerant on purpose: real EHRs send statements with no `rest`, several `rest`
entries, codes in odd casing, booleans as strings, a single object where a list belongs, the
SMART oauth-uris extension with `valueUrl` or `valueString`, and DSTU2 `Conformance`.
Anything unreadable is ignored rather than fatal; only a body that is plainly another resource
is refused.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import urljoin

from plugin.errors import InputProblemError, Problem

__all__ = [
    "CapabilityCache",
    "OAuthUris",
    "ResourceSupport",
    "ServerCapabilities",
]

_OAUTH_URIS_SUFFIX = "/StructureDefinition/oauth-uris"
# http://hl7.org/fhir/R4/valueset-type-restful-interaction.html, plus the DSTU2 spelling.
_INTERACTION_ALIASES = {"search": "search-type"}
_JSON_FORMATS = ("json", "application/fhir+json", "application/json", "application/json+fhir")


@dataclass(frozen=True, slots=True)
class OAuthUris:
    """The SMART oauth-uris extension of `rest.security` (deprecated for discovery, which now
    uses .well-known/smart-configuration; kept as the fallback when that is missing)."""

    authorize: str | None = None
    token: str | None = None
    register: str | None = None
    manage: str | None = None
    introspect: str | None = None
    revoke: str | None = None


@dataclass(frozen=True, slots=True)
class ResourceSupport:
    """One `rest.resource` entry: what the server does with one resource type."""

    type: str
    interactions: frozenset[str] = frozenset()  # lower-case codes: read, create, search-type…
    conditional_create: bool = False
    conditional_update: bool = False
    update_create: bool = False  # update can create a resource with a client-chosen id
    versioning: str | None = None  # no-version | versioned | versioned-update
    search_params: frozenset[str] = frozenset()
    search_includes: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ServerCapabilities:
    """A FHIR server's declared abilities. Types not listed are not supported; when the
    statement lists no resource at all (`lists_resources` is False) nothing is known."""

    fhir_version: str | None = None
    software: str | None = None  # "name version", for support conversations and logs
    formats: frozenset[str] = frozenset()
    supports_transaction: bool = False
    supports_batch: bool = False
    smart_on_fhir: bool = False  # rest.security.service says SMART-on-FHIR
    oauth_uris: OAuthUris | None = None
    system_search_params: frozenset[str] = frozenset()  # rest.searchParam: for every type
    resources: Mapping[str, ResourceSupport] = field(default_factory=dict)

    @classmethod
    def from_statement(cls, statement: Any, *, base_url: str | None = None) -> ServerCapabilities:
        """Parse a CapabilityStatement (parsed JSON). `base_url` resolves relative oauth URIs.

        Raises InputProblemError only when the body is plainly something else (an
        OperationOutcome, a Bundle, not a JSON object).
        """
        if not isinstance(statement, dict):
            raise InputProblemError(
                [Problem("", "capability-statement", "expected a JSON object")],
                "CapabilityStatement",
            )
        resource_type = statement.get("resourceType")
        if resource_type is not None and resource_type not in (
            "CapabilityStatement",
            "Conformance",
        ):
            raise InputProblemError(
                [
                    Problem(
                        "resourceType",
                        "capability-statement",
                        f"expected CapabilityStatement, got {str(resource_type)[:40]!r}",
                    )
                ],
                "CapabilityStatement",
            )
        rests = [r for r in _objects(statement.get("rest")) if _is_server_mode(r)]
        resources: dict[str, ResourceSupport] = {}
        system_interactions: set[str] = set()
        system_params: set[str] = set()
        oauth: OAuthUris | None = None
        smart = False
        for rest in rests:
            system_interactions |= _codes(_objects(rest.get("interaction")), "code")
            system_params |= _names(rest.get("searchParam"))
            for raw in _objects(rest.get("resource")):
                support = _resource_support(raw)
                if support is not None:
                    resources[support.type] = _merge(resources.get(support.type), support)
            security = rest.get("security")
            security = security if isinstance(security, dict) else {}
            smart = smart or _declares_smart(security)
            oauth = oauth or _oauth_uris(
                [*_objects(security.get("extension")), *_objects(rest.get("extension"))],
                base_url,
            )
        return cls(
            fhir_version=_string(statement.get("fhirVersion")),
            software=_software(statement.get("software")),
            formats=frozenset(
                f.strip().lower() for f in _list(statement.get("format")) if isinstance(f, str)
            ),
            supports_transaction="transaction" in system_interactions,
            supports_batch="batch" in system_interactions,
            smart_on_fhir=smart,
            oauth_uris=oauth,
            system_search_params=frozenset(system_params),
            resources=MappingProxyType(resources),
        )

    @property
    def lists_resources(self) -> bool:
        return bool(self.resources)

    @property
    def is_r4(self) -> bool:
        return self.fhir_version is not None and self.fhir_version.startswith("4.0")

    @property
    def supports_json(self) -> bool:
        # An empty `format` is a broken statement, not an XML-only server.
        return not self.formats or any(f in _JSON_FORMATS for f in self.formats)

    def resource(self, resource_type: str) -> ResourceSupport | None:
        """The entry for a type; FHIR types never differ by case alone, so match without it."""
        found = self.resources.get(resource_type)
        if found is not None:
            return found
        wanted = resource_type.lower()
        return next((r for k, r in self.resources.items() if k.lower() == wanted), None)

    def supports(self, resource_type: str, interaction: str) -> bool:
        support = self.resource(resource_type)
        code = interaction.lower()
        return support is not None and _INTERACTION_ALIASES.get(code, code) in support.interactions

    def can_read(self, resource_type: str) -> bool:
        return self.supports(resource_type, "read")

    def can_search(self, resource_type: str) -> bool:
        return self.supports(resource_type, "search-type")

    def can_create(self, resource_type: str) -> bool:
        return self.supports(resource_type, "create")

    def can_update(self, resource_type: str) -> bool:
        return self.supports(resource_type, "update")

    def conditional_create(self, resource_type: str) -> bool:
        """True when the server honours `If-None-Exist` on create for this type."""
        support = self.resource(resource_type)
        return (
            support is not None and "create" in support.interactions and support.conditional_create
        )

    def search_params(self, resource_type: str) -> frozenset[str]:
        """Search parameter names for a type, including the server-wide ones (`_id`, …)."""
        support = self.resource(resource_type)
        own = support.search_params if support is not None else frozenset()
        return own | self.system_search_params

    def supports_search_param(self, resource_type: str, name: str) -> bool:
        # Modifiers and chains (`date:missing`, `subject.name`) belong to the base parameter.
        base = name.split(":", 1)[0].split(".", 1)[0]
        return base in self.search_params(resource_type)

    @property
    def creatable_types(self) -> frozenset[str]:
        return frozenset(t for t, r in self.resources.items() if "create" in r.interactions)

    @property
    def updatable_types(self) -> frozenset[str]:
        return frozenset(t for t, r in self.resources.items() if "update" in r.interactions)


class CapabilityCache:
    """Parsed CapabilityStatements by FHIR base URL, kept `ttl` seconds and shared by every
    client of the process, so each EHR's /metadata is read once (and once only when many
    requests need it at the same moment). Failures are not cached."""

    def __init__(self, ttl: float = 3600.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        if ttl <= 0:
            raise InputProblemError(
                [Problem("ttl", "positive", "must be more than 0 seconds")], "capability cache"
            )
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, ServerCapabilities]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(
        self, base_url: str, fetch: Callable[[], Awaitable[ServerCapabilities]]
    ) -> ServerCapabilities:
        """The cached capabilities of `base_url`, calling `fetch` when absent or expired."""
        key = base_url.rstrip("/")
        cached = self.peek(key)
        if cached is not None:
            return cached
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self.peek(key)  # fetched by another task while we waited
            if cached is not None:
                return cached
            capabilities = await fetch()
            self._entries[key] = (self._clock() + self._ttl, capabilities)
            return capabilities

    def peek(self, base_url: str) -> ServerCapabilities | None:
        entry = self._entries.get(base_url.rstrip("/"))
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def invalidate(self, base_url: str | None = None) -> None:
        """Forget one server's statement (e.g. after its upgrade), or all of them."""
        if base_url is None:
            self._entries.clear()
        else:
            self._entries.pop(base_url.rstrip("/"), None)


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _objects(value: Any) -> list[dict[str, Any]]:
    return [v for v in _list(value) if isinstance(v, dict)]


def _string(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def _codes(objects: Iterable[dict[str, Any]], key: str) -> set[str]:
    codes = set()
    for obj in objects:
        code = _string(obj.get(key))
        if code is not None:
            lowered = code.lower()
            codes.add(_INTERACTION_ALIASES.get(lowered, lowered))
    return codes


def _names(value: Any) -> set[str]:
    return {n for p in _objects(value) if (n := _string(p.get("name"))) is not None}


def _is_server_mode(rest: dict[str, Any]) -> bool:
    mode = _string(rest.get("mode"))
    return mode is None or mode.lower() == "server"


def _resource_support(raw: dict[str, Any]) -> ResourceSupport | None:
    resource_type = _string(raw.get("type"))
    if resource_type is None:
        return None
    return ResourceSupport(
        type=resource_type,
        interactions=frozenset(_codes(_objects(raw.get("interaction")), "code")),
        conditional_create=_flag(raw.get("conditionalCreate")),
        conditional_update=_flag(raw.get("conditionalUpdate")),
        update_create=_flag(raw.get("updateCreate")),
        versioning=_string(raw.get("versioning")),
        search_params=frozenset(_names(raw.get("searchParam"))),
        search_includes=frozenset(
            s.strip() for s in _list(raw.get("searchInclude")) if isinstance(s, str)
        ),
    )


def _merge(old: ResourceSupport | None, new: ResourceSupport) -> ResourceSupport:
    # Some servers list a type once per profile or per rest entry: union what they declare.
    if old is None:
        return new
    return ResourceSupport(
        type=old.type,
        interactions=old.interactions | new.interactions,
        conditional_create=old.conditional_create or new.conditional_create,
        conditional_update=old.conditional_update or new.conditional_update,
        update_create=old.update_create or new.update_create,
        versioning=old.versioning or new.versioning,
        search_params=old.search_params | new.search_params,
        search_includes=old.search_includes | new.search_includes,
    )


def _declares_smart(security: dict[str, Any]) -> bool:
    for service in _objects(security.get("service")):
        for coding in _objects(service.get("coding")):
            if (_string(coding.get("code")) or "").lower() == "smart-on-fhir":
                return True
        if "smart" in (_string(service.get("text")) or "").lower():
            return True
    return False


def _oauth_uris(extensions: list[dict[str, Any]], base_url: str | None) -> OAuthUris | None:
    for extension in extensions:
        url = _string(extension.get("url")) or ""
        if not url.lower().endswith(_OAUTH_URIS_SUFFIX.lower()):
            continue
        found: dict[str, str] = {}
        for inner in _objects(extension.get("extension")):
            name = (_string(inner.get("url")) or "").lower()
            value = next(
                (
                    v
                    for k in ("valueUri", "valueUrl", "valueString")
                    if (v := _string(inner.get(k))) is not None
                ),
                None,
            )
            if name in OAuthUris.__dataclass_fields__ and value is not None:
                # Legacy servers send relative endpoints; resolve them against the FHIR base.
                found[name] = urljoin(base_url.rstrip("/") + "/", value) if base_url else value
        if found:
            return OAuthUris(**found)
    return None


def _software(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    parts = [p for p in (_string(value.get("name")), _string(value.get("version"))) if p]
    return " ".join(parts) or None
