"""How the worker reaches the chart of an outbox item: the FHIR client of the session the
report was signed in (its refreshing access token, server-side), the access that session was
granted, and the EHR's registration (write mode, what its notes accept).

The session is referred to by its id, encrypted at rest (`SessionRefs`). When the session is
gone or its tokens can no longer be refreshed, the item waits for the user's next launch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from plugin.writeback import TEXT_ONLY, WriteAccess
from smart_app.drafts import DraftOwner
from smart_app.errors import (
    DiscoveryError,
    SessionExpiredError,
    SessionMissingError,
    TokenEndpointError,
)
from smart_app.fhir_client import FhirClient, RetryPolicy
from smart_app.fhir_errors import TokenRefreshUnavailableError
from smart_app.outbox.errors import SignInRequiredError
from smart_app.outbox.records import OutboxItem
from smart_app.scopes import GrantedAccess, Interaction
from smart_app.services import SmartServices
from smart_app.settings import EhrRegistration
from smart_app.token_encryption import TokenCipher, UnreadableSecretError

__all__ = [
    "ChartAccess",
    "ChartConnector",
    "SessionChartConnector",
    "SessionRefs",
    "document_content_types",
    "write_access",
]


async def _cannot_renew() -> bool:
    return False


@dataclass(frozen=True, slots=True)
class ChartAccess:
    """What writing to one chart needs. `renew` forces a token refresh and says whether the
    sign-in is still alive (an EHR may answer 401 to a token it has just issued)."""

    client: FhirClient
    access: WriteAccess
    write_mode: str
    document_content_types: frozenset[str]
    renew: Callable[[], Awaitable[bool]] = _cannot_renew


class ChartConnector(Protocol):
    async def open(self, item: OutboxItem) -> ChartAccess:
        """The chart access of the item; raises SignInRequiredError when there is none."""
        ...


class SessionRefs:
    """Session ids sealed for storage in the outbox (a session id is worth a session cookie)."""

    def __init__(self, cipher: TokenCipher) -> None:
        self._cipher = cipher

    def seal(self, session_id: str) -> bytes:
        return self._cipher.encrypt(session_id.encode("utf-8"))

    def open(self, sealed: bytes | None) -> str | None:
        if sealed is None:
            return None
        try:
            return self._cipher.decrypt(sealed).decode("utf-8")
        except UnreadableSecretError:
            return None


def write_access(granted: GrantedAccess) -> WriteAccess:
    return WriteAccess.from_checks(
        granted.can_create,
        lambda resource_type: granted.can(resource_type, Interaction.UPDATE),
        granted.can_search,
    )


def document_content_types(registration: EhrRegistration) -> frozenset[str]:
    """The attachment types the EHR's notes accept: text/plain, and PDF when registered so."""
    if registration.document_pdf:
        return TEXT_ONLY | {"application/pdf"}
    return TEXT_ONLY


def _sign_in_required(detail: str) -> SignInRequiredError:
    return SignInRequiredError(
        "Your sign-in to the EHR has ended; open the app from the patient's chart to send "
        "the report.",
        detail,
    )


class SessionChartConnector:
    """The production connector: the item's stored SMART session, through the app's
    services (outgoing HTTP, token refresh, capability cache)."""

    def __init__(
        self, services: SmartServices, refs: SessionRefs, *, policy: RetryPolicy | None = None
    ) -> None:
        self._services = services
        self._refs = refs
        # One send per request: the outbox does the retrying, visibly, with reconciliation.
        self._policy = policy or RetryPolicy.for_app(max_attempts=1)

    async def open(self, item: OutboxItem) -> ChartAccess:
        session_id = self._refs.open(item.session_ref)
        if session_id is None:
            raise _sign_in_required("no usable session reference on the item")
        live = await self._services.sessions.get(session_id)
        if live is None:
            raise _sign_in_required("the item's session ended or expired")
        if live.session.iss.rstrip("/") != item.iss:
            raise _sign_in_required("the item's session belongs to another EHR")
        # A session's token is scoped to its launch's patient and user: with another's, the
        # write is refused and reconciliation cannot see what an earlier attempt filed.
        owner = DraftOwner.of_session(live.session)
        if owner.patient_id != item.patient_id:
            raise _sign_in_required("the item's session is for another patient")
        if owner.user_id != item.user_id:
            raise _sign_in_required("the item's session is another user's")
        registration = self._services.registration(item.iss)
        if registration is None:
            raise _sign_in_required("the EHR is no longer registered")
        tokens = self._services.token_source(session_id)
        client = FhirClient(
            item.iss,
            tokens,
            self._services.http,
            policy=self._policy,
            capability_cache=self._services.capabilities,
        )

        async def renew() -> bool:
            try:
                await tokens.refreshed_access_token()
            except (TokenRefreshUnavailableError, SessionMissingError, SessionExpiredError):
                return False
            except (TokenEndpointError, DiscoveryError):
                return True  # the token endpoint is having trouble; the grant may be fine
            return True

        return ChartAccess(
            client=client,
            access=write_access(live.session.granted),
            write_mode=registration.write_mode.value,
            document_content_types=document_content_types(registration),
            renew=renew,
        )
