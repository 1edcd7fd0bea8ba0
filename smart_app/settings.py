"""Configuration: a TOML file (``--config`` or ``DISCOGRAM_CONFIG``) overridden by environment
variables (``DISCOGRAM_PUBLIC_URL``, ``DISCOGRAM_DATABASE_URL``, …; lists and tables as JSON).

Built by `load_settings`, never at import time, and injected where needed.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StrictBool,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from plugin.jwk_set import JwkSetInvalidError, public_key_set

__all__ = [
    "CdsClientRegistration",
    "ClientAuth",
    "EhrRegistration",
    "Settings",
    "WriteMode",
    "load_settings",
]

CONFIG_ENV = "DISCOGRAM_CONFIG"


class ClientAuth(StrEnum):
    PUBLIC = "public"
    CLIENT_SECRET_BASIC = "client_secret_basic"  # noqa: S105 - a method name, not a secret
    PRIVATE_KEY_JWT = "private_key_jwt"


class WriteMode(StrEnum):
    AUTO = "auto"
    FULL = "full"
    DOCUMENT = "document"
    PER_RESOURCE = "per-resource"


def _base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"must be an absolute http(s) URL (got {value!r})")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query or fragment")
    return value.rstrip("/")


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _public_url(value: str) -> str:
    url = _base_url(value)
    parts = urlsplit(url)
    if parts.path:
        # The pages, the launch and callback URLs and the static files are addressed from the
        # host's root (`/launch`, `/app/static/…`): under a path prefix every one would 404.
        raise ValueError(
            f"must not have a path (got {value!r}); serve the app at the root of its own host "
            "name (e.g. https://discography.hospital.example), not under a path prefix"
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        # Sessions, tokens and CDS calls reach us here: TLS except on the loopback host
        # (development and the sandbox), as CDS Hooks 2.0 and SMART require.
        raise ValueError(
            f"must use https outside the loopback host (got {value!r}); plain http is for "
            "development on localhost or 127.0.0.1 only"
        )
    return url


def _jwks_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an absolute https URL (got {value!r})")
    if parts.fragment:
        raise ValueError("must not have a fragment")
    return value


# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) — no spaces, quotes or backslashes.
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+")


def _scope_tokens(values: list[str] | None) -> list[str] | None:
    for value in values or ():
        if not _SCOPE_TOKEN.fullmatch(value):
            raise ValueError(
                f"each scope must be one non-empty OAuth scope token without spaces (got {value!r})"
            )
    return values


def _public_jwk_set(path: Path) -> Path:
    """A JWK Set file holding at least one RSA or EC public key and no private key material —
    checked at startup so a bad file is not first found when the EHR calls."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path} cannot be read ({exc.strerror})") from None
    except (UnicodeDecodeError, ValueError):
        raise ValueError(f"{path} is not JSON (a JWK Set is expected)") from None
    try:
        public_key_set(document)
    except JwkSetInvalidError as problem:
        raise ValueError(f"{path} {problem}") from None
    return path


def _async_database_url(value: str) -> str:
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError(
            "not a database URL (e.g. sqlite+aiosqlite:///var/discogram.sqlite3 or "
            "postgresql+asyncpg://user@host/db)"
        ) from None
    backend = url.get_backend_name()
    # Only the driver name is echoed: the URL may carry a password.
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"must be SQLite or PostgreSQL, not {backend!r}")
    try:
        is_async = bool(getattr(url.get_dialect(), "is_async", False))
    except NoSuchModuleError:
        is_async = False
    if not is_async:
        raise ValueError(
            f"needs an async driver: sqlite+aiosqlite or postgresql+asyncpg "
            f"(got {url.drivername!r})"
        )
    if backend == "sqlite" and _in_memory(url.database, url.query):
        raise ValueError(
            "must not be an in-memory SQLite database: the outbox of signed reports, the study "
            "drafts and the CDS token ids already used would be lost at every restart; give a "
            "file (e.g. sqlite+aiosqlite:///var/discogram.sqlite3) or PostgreSQL"
        )
    return value


def _in_memory(database: str | None, query: Mapping[str, Any]) -> bool:
    # `sqlite+aiosqlite://`, `…/:memory:`, and SQLite URI filenames (`file::memory:`,
    # `?mode=memory`) all name a database that lives only as long as its connection.
    return (
        database in (None, "", ":memory:")
        or (database or "").startswith("file::memory:")
        or query.get("mode") == "memory"
    )


class EhrRegistration(BaseModel):
    """One EHR the app is registered with. Only these `iss` values are ever contacted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1)]
    iss: str  # the FHIR base URL, compared exactly (trailing slash ignored)
    client_id: Annotated[str, Field(min_length=1)]
    client_auth: ClientAuth = ClientAuth.PUBLIC
    client_secret: SecretStr | None = None
    private_key_file: Path | None = None  # PEM, RSA (RS384) or EC P-384 (ES384)
    next_private_key_file: Path | None = None  # published in the JWKS ahead of rotation
    scopes: list[str] | None = None  # replaces the computed scope request when set
    frame_origins: list[str] = Field(default_factory=list)  # extra origins allowed to frame us
    write_mode: WriteMode = WriteMode.AUTO
    document_type: Literal["18748-4", "34121-4"] = "18748-4"
    # Its clinical notes accept a PDF besides text/plain (not Epic). A TOML boolean: a string
    # such as "yes" or "false" is refused, not guessed at.
    document_pdf: StrictBool = False

    _check_iss = field_validator("iss")(classmethod(lambda cls, v: _base_url(v)))
    _check_scopes = field_validator("scopes")(classmethod(lambda cls, v: _scope_tokens(v)))

    @model_validator(mode="after")
    def _credentials_match_auth(self) -> EhrRegistration:
        if self.client_auth is ClientAuth.CLIENT_SECRET_BASIC and self.client_secret is None:
            raise ValueError(
                f"ehr {self.name!r}: client_auth client_secret_basic needs client_secret"
            )
        if self.client_auth is ClientAuth.PRIVATE_KEY_JWT and self.private_key_file is None:
            raise ValueError(
                f"ehr {self.name!r}: client_auth private_key_jwt needs private_key_file"
            )
        if (
            self.client_secret is not None
            and self.client_auth is not ClientAuth.CLIENT_SECRET_BASIC
        ):
            # Never sent: a secret configured for a client that does not use it is a mistake.
            raise ValueError(
                f"ehr {self.name!r}: client_secret is used only with client_auth "
                f"client_secret_basic (client_auth is {self.client_auth.value})"
            )
        return self

    @property
    def origin(self) -> str:
        parts = urlsplit(self.iss)
        return f"{parts.scheme}://{parts.netloc}"


class CdsClientRegistration(BaseModel):
    """A CDS client (an EHR calling our CDS Hooks services), trusted by `iss` and its keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    iss: Annotated[str, Field(min_length=1)]
    jwks_url: str | None = None  # the allowed `jku`
    jwks_file: Path | None = None
    tenant: str | None = None

    _check_jwks_url = field_validator("jwks_url")(
        classmethod(lambda cls, v: None if v is None else _jwks_url(v))
    )
    _check_jwks_file = field_validator("jwks_file")(
        classmethod(lambda cls, v: None if v is None else _public_jwk_set(v))
    )

    @model_validator(mode="after")
    def _has_keys(self) -> CdsClientRegistration:
        if (self.jwks_url is None) == (self.jwks_file is None):
            raise ValueError(f"cds_client {self.iss!r}: give exactly one of jwks_url or jwks_file")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DISCOGRAM_",
        extra="forbid",
        frozen=True,
    )

    public_url: str = "http://127.0.0.1:8000"
    database_url: str = "sqlite+aiosqlite:///var/discogram.sqlite3"  # default: follows data_dir
    data_dir: Path = Path("var")  # keys, secrets and the SQLite file live here by default
    secret_key_file: Path | None = None  # session signing / token encryption; generated if absent
    rule_set_files: list[Path] = Field(
        default_factory=list
    )  # site rule sets, replace defaults by id
    # The site's candidacy (referral) policy, used by the app and the CDS services alike;
    # None: the shipped one. Loaded and validated at start.
    candidacy_policy_file: Path | None = None
    ehr: list[EhrRegistration] = Field(default_factory=list)
    cds_client: list[CdsClientRegistration] = Field(default_factory=list)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # The site's IANA time zone: the calendar day candidacy is assessed on.
    timezone: str = "UTC"

    _check_public_url = field_validator("public_url")(classmethod(lambda cls, v: _public_url(v)))
    _check_database_url = field_validator("database_url")(
        classmethod(lambda cls, v: _async_database_url(v))
    )

    @model_validator(mode="before")
    @classmethod
    def _database_in_data_dir(cls, values: Any) -> Any:
        # Without an explicit database_url the SQLite file lives in data_dir, like the keys.
        # A data_dir that is not a path is left for its field's validation to report.
        if (
            isinstance(values, dict)
            and "database_url" not in values
            and isinstance(values.get("data_dir"), str | os.PathLike)
        ):
            database = Path(values["data_dir"]) / "discogram.sqlite3"
            values = {**values, "database_url": f"sqlite+aiosqlite:///{database}"}
        return values

    @field_validator("secret_key_file")
    @classmethod
    def _key_file_not_a_folder(cls, value: Path | None) -> Path | None:
        if value is not None and value.is_dir():
            raise ValueError(
                f"{value} is a folder; give the key file's path (e.g. {value}/secret.key)"
            )
        return value

    @model_validator(mode="after")
    def _unique_iss(self) -> Settings:
        seen: set[str] = set()
        for registration in self.ehr:
            if registration.iss in seen:
                raise ValueError(f"ehr iss {registration.iss!r} is registered twice")
            seen.add(registration.iss)
        # A CDS client is found by its iss: a second registration could never be used.
        clients: set[str] = set()
        for client in self.cds_client:
            if client.iss in clients:
                raise ValueError(
                    f"cds_client iss {client.iss!r} is registered twice; give each CDS client "
                    "one registration"
                )
            clients.add(client.iss)
        return self

    @model_validator(mode="after")
    def _jwks_urls_over_tls(self) -> Settings:
        # As the CDS key fetch allows: https, or plain http on the loopback host while we run
        # ourselves on plain http there (development and the sandbox).
        for index, client in enumerate(self.cds_client):
            parts = urlsplit(client.jwks_url or "")
            if parts.scheme == "http" and (self.cookie_secure or not _is_loopback(parts.hostname)):
                raise ValueError(
                    f"cds_client.{index}.jwks_url: must use https (got {client.jwks_url!r}); "
                    "plain http is for development on localhost with a localhost public_url"
                )
        return self

    @model_validator(mode="after")
    def _frame_origins_over_tls(self) -> Settings:
        # As for an EHR's iss (`registration_problems` in smart_app.services): a page framing
        # ours over plain http can be tampered with on the way, so only https origins — except
        # while we run on plain http on the loopback host (development and the sandbox).
        if not self.cookie_secure:
            return self
        refused = [
            f"ehr.{index}.frame_origins.{position}: must use https (got {origin!r}); plain "
            "http is for development on localhost with a localhost public_url"
            for index, registration in enumerate(self.ehr)
            for position, origin in enumerate(registration.frame_origins)
            if urlsplit(origin).scheme == "http"
        ]
        if refused:
            # One line per origin (the command line prints each on its own line).
            raise ValueError("\n".join(refused))
        return self

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"not an IANA time zone name (got {value!r}; e.g. America/Chicago)"
            ) from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def cookie_secure(self) -> bool:
        """Secure cookies everywhere except plain http on the loopback host (development)."""
        parts = urlsplit(self.public_url)
        return not (parts.scheme == "http" and _is_loopback(parts.hostname))

    def ehr_for_iss(self, iss: str) -> EhrRegistration | None:
        wanted = iss.rstrip("/")
        return next((r for r in self.ehr if r.iss == wanted), None)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit arguments, then environment, then the TOML file (if any).
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from `config_file` (else ``$DISCOGRAM_CONFIG``, else defaults), environment
    variables taking precedence over the file, and `overrides` over both."""
    path = config_file or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    if path is not None and not path.is_file():
        from plugin.errors import ConfigurationError

        raise ConfigurationError(f"configuration file {path} does not exist")
    if path is None:
        return Settings(**overrides)
    # The TOML source reads `toml_file` from the model config; bind it per call.
    bound: type[Settings] = type(
        "Settings", (Settings,), {"model_config": {**Settings.model_config, "toml_file": path}}
    )
    return bound(**overrides)
