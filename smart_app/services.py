"""The SMART app's long-lived parts, built once per app from the settings (nothing at import
time): outgoing HTTP, discovery and key caches, storage, signing keys, the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from plugin.errors import ConfigurationError
from smart_app.capabilities import CapabilityCache
from smart_app.client_auth import AsyncOAuth2Client, oauth_client
from smart_app.clock import Clock
from smart_app.discovery import SmartDiscovery
from smart_app.errors import SessionExpiredError
from smart_app.fhir_client import FhirClient
from smart_app.keys import RegistrationKeys, load_registration_keys
from smart_app.openid import IdTokenVerifier
from smart_app.session import SessionService, SmartSession
from smart_app.settings import EhrRegistration, Settings
from smart_app.store import Database, LaunchRecordStore
from smart_app.store.sessions import SessionStore
from smart_app.token_encryption import TokenCipher, secret_key_path
from smart_app.token_source import SessionTokenSource
from smart_app.tokens import TokenResponse, refresh_tokens

__all__ = ["SmartServices", "build_services", "registration_problems"]

OUTGOING_TIMEOUT = httpx.Timeout(20.0, connect=5.0)


@dataclass(slots=True)
class SmartServices:
    settings: Settings
    clock: Clock
    transport: httpx.AsyncBaseTransport | None
    http: httpx.AsyncClient
    discovery: SmartDiscovery
    id_tokens: IdTokenVerifier
    database: Database
    launch_records: LaunchRecordStore
    sessions: SessionService
    keys: dict[str, RegistrationKeys]
    allow_plain_http: bool
    capabilities: CapabilityCache = field(default_factory=CapabilityCache)

    @property
    def redirect_uri(self) -> str:
        # Exactly the registered value: no query, no variation by EHR or launch.
        return f"{self.settings.public_url}/callback"

    def registration(self, iss: str) -> EhrRegistration | None:
        return self.settings.ehr_for_iss(iss)

    def oauth_client(self, registration: EhrRegistration) -> AsyncOAuth2Client:
        keys = self.keys.get(registration.iss)
        return oauth_client(
            registration,
            redirect_uri=self.redirect_uri,
            signing_key=keys.current if keys is not None else None,
            clock=self.clock,
            transport=self.transport,
        )

    async def refresh(self, session: SmartSession) -> TokenResponse:
        registration = self.registration(session.iss)
        if registration is None or session.refresh_token is None:
            raise SessionExpiredError(
                "Your access to the EHR has ended. Open the app from the EHR again.",
                "cannot refresh: EHR no longer registered or no refresh token",
            )
        configuration = await self.discovery.configuration(registration)
        async with self.oauth_client(registration) as client:
            return await refresh_tokens(
                client,
                configuration.token_endpoint,
                refresh_token=session.refresh_token.get_secret_value(),
                ehr_name=registration.name,
            )

    def token_source(self, session_id: str) -> SessionTokenSource:
        return SessionTokenSource(
            session_id, sessions=self.sessions, refresh=self.refresh, clock=self.clock
        )

    def fhir_client(self, session_id: str, iss: str) -> FhirClient:
        """The FHIR client of one session: its EHR, its (refreshing) access token."""
        # Ask for large pages: every page of a long search is one more sequential round
        # trip. Servers cap `_count` at their own maximum (the client retries without it
        # when a server refuses it).
        return FhirClient(
            iss,
            self.token_source(session_id),
            self.http,
            capability_cache=self.capabilities,
            page_size=SEARCH_PAGE_SIZE,
        )

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.database.dispose()


#: `_count` the app asks for on chart searches.
SEARCH_PAGE_SIZE = 1000


def registration_problems(settings: Settings) -> list[str]:
    """Each registered EHR whose iss is plain http outside development, one line each naming
    its setting."""
    if not settings.cookie_secure:  # development: the app itself on http on localhost
        return []
    return [
        f"ehr.{index}.iss: must be https (ehr {registration.name!r}) — tokens only travel over "
        "TLS (plain http is accepted only while public_url is http on localhost)"
        for index, registration in enumerate(settings.ehr)
        if urlsplit(registration.iss).scheme != "https"
    ]


def build_services(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None, clock: Clock
) -> SmartServices:
    """Everything the app needs; raises ConfigurationError for bad keys or registrations."""
    allow_plain_http = not settings.cookie_secure  # development: the app itself on localhost
    problems = registration_problems(settings)
    if problems:
        raise ConfigurationError("\n".join(problems))
    keys = load_registration_keys(settings)
    cipher = TokenCipher.from_key_file(secret_key_path(settings))
    database = Database(settings.database_url)
    http = httpx.AsyncClient(transport=transport, timeout=OUTGOING_TIMEOUT, follow_redirects=False)
    return SmartServices(
        settings=settings,
        clock=clock,
        transport=transport,
        http=http,
        discovery=SmartDiscovery(http, clock, allow_plain_http=allow_plain_http),
        id_tokens=IdTokenVerifier(http, clock, allow_plain_http=allow_plain_http),
        database=database,
        launch_records=LaunchRecordStore(database, cipher),
        sessions=SessionService(SessionStore(database, cipher), clock),
        keys=keys,
        allow_plain_http=allow_plain_http,
    )
