"""SMART configuration discovery (SMART App Launch 2.2 §Retrieve .well-known/smart-configuration).

`{iss}/.well-known/smart-configuration` first; the deprecated CapabilityStatement `oauth-uris`
extension at `{iss}/metadata` only when the first answers 404 (a 5xx is an outage, not a
legacy server). Results are cached per `iss` for a few minutes; failures are not cached.
Only registered EHRs reach this module — the allowlist is checked before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from smart_app.clock import Clock
from smart_app.errors import DiscoveryError
from smart_app.settings import EhrRegistration

__all__ = [
    "DISCOVERY_TTL_SECONDS",
    "SmartConfiguration",
    "SmartDiscovery",
    "configuration_from_capability_statement",
    "parse_smart_configuration",
    "smart_configuration_url",
]

log = logging.getLogger(__name__)

DISCOVERY_TTL_SECONDS = 300.0

_OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
_CAPABILITIES = "http://fhir-registry.smarthealthit.org/StructureDefinition/capabilities"
_ENDPOINT_FIELDS = (
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "registration_endpoint",
    "management_endpoint",
    "introspection_endpoint",
    "revocation_endpoint",
)


class SmartConfiguration(BaseModel):
    """The fields of `.well-known/smart-configuration` the app uses; endpoints absolute."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    issuer: str | None = None
    jwks_uri: str | None = None
    authorization_endpoint: str | None = None
    token_endpoint: str
    token_endpoint_auth_methods_supported: list[str] = Field(default_factory=list)
    token_endpoint_auth_signing_alg_values_supported: list[str] = Field(default_factory=list)
    grant_types_supported: list[str] = Field(default_factory=list)
    registration_endpoint: str | None = None
    management_endpoint: str | None = None
    introspection_endpoint: str | None = None
    revocation_endpoint: str | None = None
    scopes_supported: list[str] = Field(default_factory=list)
    response_types_supported: list[str] = Field(default_factory=list)
    capabilities: list[str] = Field(default_factory=list)
    code_challenge_methods_supported: list[str] = Field(default_factory=list)

    def supports(self, capability: str) -> bool:
        return capability in self.capabilities


def smart_configuration_url(iss: str) -> str:
    # Appended even when the base has a path (§Retrieve .well-known/smart-configuration).
    return iss.rstrip("/") + "/.well-known/smart-configuration"


def _resolve(fhir_base: str, url: str) -> str:
    # Relative endpoints (legacy servers) are resolved against the FHIR base, taken as a
    # directory: "auth/token" under https://ehr/fhir is https://ehr/fhir/auth/token.
    return urljoin(fhir_base.rstrip("/") + "/", url)


def parse_smart_configuration(
    document: object, fhir_base: str, ehr_name: str
) -> SmartConfiguration:
    """Validate a smart-configuration document and make its endpoints absolute."""
    if not isinstance(document, dict):
        raise _malformed(ehr_name, "the smart-configuration response is not a JSON object")
    resolved: dict[str, Any] = dict(document)
    for name in _ENDPOINT_FIELDS:
        value = resolved.get(name)
        if isinstance(value, str) and value:
            resolved[name] = _resolve(fhir_base, value)
    try:
        return SmartConfiguration.model_validate(resolved)
    except ValidationError as exc:
        fields = ", ".join(
            ".".join(str(p) for p in e["loc"]) + f" ({e['msg']})" for e in exc.errors()
        )
        raise _malformed(ehr_name, f"smart-configuration is invalid: {fields}") from None


def configuration_from_capability_statement(
    document: object, fhir_base: str, ehr_name: str
) -> SmartConfiguration:
    """The legacy discovery: `rest[].security.extension` oauth-uris (and capabilities)."""
    if not isinstance(document, dict) or document.get("resourceType") != "CapabilityStatement":
        raise _malformed(ehr_name, "{iss}/metadata did not return a CapabilityStatement")
    endpoints: dict[str, str] = {}
    capabilities: list[str] = []
    for rest in _dicts(document.get("rest")):
        security = rest.get("security")
        if not isinstance(security, dict):
            continue
        for extension in _dicts(security.get("extension")):
            if extension.get("url") == _OAUTH_URIS:
                for uri in _dicts(extension.get("extension")):
                    if isinstance(uri.get("url"), str) and isinstance(uri.get("valueUri"), str):
                        endpoints[uri["url"]] = uri["valueUri"]
            elif extension.get("url") == _CAPABILITIES and isinstance(
                extension.get("valueCode"), str
            ):
                capabilities.append(extension["valueCode"])
    if "token" not in endpoints:
        raise _malformed(
            ehr_name,
            "smart-configuration is missing (404) and the CapabilityStatement has no oauth-uris "
            "token endpoint",
        )
    return parse_smart_configuration(
        {
            "authorization_endpoint": endpoints.get("authorize"),
            "token_endpoint": endpoints["token"],
            "registration_endpoint": endpoints.get("register"),
            "management_endpoint": endpoints.get("manage"),
            "introspection_endpoint": endpoints.get("introspect"),
            "revocation_endpoint": endpoints.get("revoke"),
            "capabilities": capabilities,
        },
        fhir_base,
        ehr_name,
    )


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _malformed(ehr_name: str, detail: str) -> DiscoveryError:
    return DiscoveryError(
        f"The app could not read how to sign in to {ehr_name}. This needs the EHR's "
        "integration team: please pass the technical detail below to them.",
        detail,
    )


def _check_transport_security(
    config: SmartConfiguration, registration: EhrRegistration, *, allow_plain_http: bool
) -> None:
    # Codes, secrets and tokens only ever travel over TLS (App Launch §App protection);
    # plain http is tolerated only in development (the app itself on http://localhost).
    if allow_plain_http:
        return
    for name in _ENDPOINT_FIELDS:
        url = getattr(config, name)
        if url is not None and urlsplit(url).scheme != "https":
            raise DiscoveryError(
                f"{registration.name} offers its sign-in over an insecure connection, so the "
                "app refused to use it. Please tell the EHR's integration team.",
                f"{name} {url} is not https; tokens are only sent over TLS",
            )


@dataclass(slots=True)
class _Cached:
    configuration: SmartConfiguration
    fetched_at: float


class SmartDiscovery:
    """Fetches and caches SMART configurations of registered EHRs."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        clock: Clock,
        *,
        allow_plain_http: bool,
        ttl_seconds: float = DISCOVERY_TTL_SECONDS,
    ) -> None:
        self._http = http
        self._clock = clock
        self._allow_plain_http = allow_plain_http
        self._ttl = ttl_seconds
        self._cache: dict[str, _Cached] = {}

    async def configuration(self, registration: EhrRegistration) -> SmartConfiguration:
        now = self._clock()
        cached = self._cache.get(registration.iss)
        if cached is not None and now - cached.fetched_at < self._ttl:
            return cached.configuration
        config = await self._fetch(registration)
        _check_transport_security(config, registration, allow_plain_http=self._allow_plain_http)
        if config.code_challenge_methods_supported and (
            "S256" not in config.code_challenge_methods_supported
        ):
            # Sent anyway: every SMART server must accept S256 and we never fall back to plain.
            log.warning(
                "EHR %s does not advertise PKCE S256; sending it regardless", registration.name
            )
        self._cache[registration.iss] = _Cached(config, now)
        return config

    async def _fetch(self, registration: EhrRegistration) -> SmartConfiguration:
        url = smart_configuration_url(registration.iss)
        response = await self._get(registration, url, "application/json")
        if response.status_code == 404:
            log.info(
                "EHR %s has no smart-configuration; trying its CapabilityStatement",
                registration.name,
            )
            metadata = await self._get(
                registration, registration.iss + "/metadata", "application/fhir+json"
            )
            _raise_for_status(registration, metadata, "{iss}/metadata")
            return configuration_from_capability_statement(
                _json(registration, metadata), registration.iss, registration.name
            )
        _raise_for_status(registration, response, "{iss}/.well-known/smart-configuration")
        return parse_smart_configuration(
            _json(registration, response), registration.iss, registration.name
        )

    async def _get(self, registration: EhrRegistration, url: str, accept: str) -> httpx.Response:
        try:
            return await self._http.get(url, headers={"Accept": accept})
        except httpx.HTTPError as exc:
            raise DiscoveryError(
                f"The app could not reach {registration.name}. Try again in a few minutes; if it "
                "keeps happening, tell your EHR support team.",
                f"GET {url} failed: {type(exc).__name__}",
            ) from None


def _raise_for_status(registration: EhrRegistration, response: httpx.Response, what: str) -> None:
    if response.status_code != 200:
        raise DiscoveryError(
            f"{registration.name}'s sign-in service is not answering properly. Try again in a few "
            "minutes; if it keeps happening, tell your EHR support team.",
            f"GET {what} returned HTTP {response.status_code}",
        )


def _json(registration: EhrRegistration, response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        raise _malformed(registration.name, f"{response.request.url} did not return JSON") from None
