"""How a sandbox EHR is set up: its address, storage, registered clients and the behaviour
switches tests use to make it act like a particular real EHR."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from plugin.sandbox.behaviour import SandboxBehaviour

__all__ = [
    "ClientAuthMethod",
    "SandboxCdsClient",
    "SandboxClient",
    "SandboxConfig",
]


class ClientAuthMethod(StrEnum):
    """Token endpoint authentication methods (RFC 7591 names; SMART App Launch 2.2)."""

    NONE = "none"  # public client
    CLIENT_SECRET_BASIC = "client_secret_basic"  # noqa: S105 — confidential symmetric
    PRIVATE_KEY_JWT = "private_key_jwt"  # confidential asymmetric


def _absolute_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"must be an absolute http(s) URL (got {value!r})")
    return value


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SandboxClient(BaseModel):
    """A client registered with the sandbox authorization server."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: Annotated[str, Field(min_length=1, max_length=200)]
    name: str = "SMART app"
    auth_method: ClientAuthMethod = ClientAuthMethod.NONE
    redirect_uris: Annotated[list[str], Field(min_length=1)]
    launch_url: str | None = None  # where the EHR page sends EHR launches
    client_secret: SecretStr | None = None
    jwks_url: str | None = None  # preferred for private_key_jwt (keys can rotate)
    jwks: dict[str, Any] | None = None  # a JWK Set stored with the registration

    _check_redirects = field_validator("redirect_uris")(
        classmethod(lambda cls, v: [_absolute_url(u) for u in v])
    )

    @model_validator(mode="after")
    def _credentials_match_method(self) -> SandboxClient:
        method = self.auth_method
        if method is ClientAuthMethod.CLIENT_SECRET_BASIC and self.client_secret is None:
            raise ValueError(f"client {self.client_id!r}: client_secret_basic needs client_secret")
        if method is ClientAuthMethod.PRIVATE_KEY_JWT and (self.jwks_url is None) == (
            self.jwks is None
        ):
            raise ValueError(
                f"client {self.client_id!r}: private_key_jwt needs exactly one of jwks_url or jwks"
            )
        return self


class SandboxCdsClient(BaseModel):
    """The sandbox EHR as a CDS Hooks client of a CDS service (the app's discography
    services): whom it calls and the key it signs its JWTs with (CDS Hooks 2.0 §Trusting CDS
    Clients)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The CDS service's discovery endpoint, e.g. ``http://127.0.0.1:8000/cds-services``.
    services_url: str
    #: The JWT `iss` the service knows the sandbox by.
    issuer: str
    #: PEM EC P-384 private key signing the JWTs (ES384); its public JWK Set is registered
    #: with the service as a file.
    signing_key_file: Path

    _check_urls = field_validator("services_url", "issuer")(
        classmethod(lambda cls, v: _absolute_url(v).rstrip("/"))
    )


class SandboxConfig(BaseModel):
    """Everything a sandbox needs; the defaults give an in-memory sandbox on 127.0.0.1:8000."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Origin the sandbox is reached at; the FHIR base (`iss`) is ``{base_url}/fhir``.
    base_url: str = "http://127.0.0.1:8000"
    #: SQLite file of the FHIR server; ``None`` keeps the data in memory (tests).
    database_file: Path | None = None
    #: PEM RSA key signing id_tokens (RS256); ``None`` generates one per run.
    signing_key_file: Path | None = None
    clients: list[SandboxClient] = Field(default_factory=list)
    #: Skip the consent screen and grant at once (tests).
    auto_consent: bool = False
    #: Scopes never granted even when asked for, e.g. ``["patient/DiagnosticReport.c"]``,
    #: to exercise an app's handling of a narrower grant than it requested.
    withheld_scopes: list[str] = Field(default_factory=list)
    need_patient_banner: bool = True
    access_token_seconds: Annotated[int, Field(gt=0)] = 3600
    refresh_token_seconds: Annotated[int, Field(gt=0)] = 30 * 24 * 3600
    authorization_code_seconds: Annotated[int, Field(gt=0)] = 60
    launch_seconds: Annotated[int, Field(gt=0)] = 600
    #: Practitioner id of the signed-in user for standalone launches.
    default_user: str = "spine-proceduralist"
    #: Patient given to standalone launches without showing the picker (tests); None: ask.
    standalone_patient: str | None = None
    behaviour: SandboxBehaviour = Field(default_factory=SandboxBehaviour)
    #: The CDS service the EHR page's discography order calls; None: no such page.
    cds_client: SandboxCdsClient | None = None

    @field_validator("base_url")
    @classmethod
    def _origin(cls, value: str) -> str:
        parts = urlsplit(_absolute_url(value))
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError("must be an origin such as http://127.0.0.1:8000 (no path)")
        if parts.scheme == "http" and not _loopback(parts.hostname or ""):
            # OAuth 2.0 needs TLS; plain http is acceptable on the loopback interface only.
            raise ValueError("plain http is allowed only on localhost or a loopback address")
        return f"{parts.scheme}://{parts.netloc}"

    @model_validator(mode="after")
    def _unique_clients(self) -> SandboxConfig:
        seen: set[str] = set()
        for client in self.clients:
            if client.client_id in seen:
                raise ValueError(f"client_id {client.client_id!r} is registered twice")
            seen.add(client.client_id)
        return self

    @property
    def fhir_base(self) -> str:
        return f"{self.base_url}/fhir"

    @property
    def issuer(self) -> str:
        """OpenID Connect issuer of the id_tokens; discovery lives under it."""
        return f"{self.base_url}/auth"

    @property
    def authorize_url(self) -> str:
        return f"{self.base_url}/auth/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/auth/token"

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/auth/jwks"

    @property
    def smart_style_url(self) -> str:
        return f"{self.base_url}/ehr/smart-style.json"

    def client(self, client_id: str) -> SandboxClient | None:
        return next((c for c in self.clients if c.client_id == client_id), None)
