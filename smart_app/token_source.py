"""The session-backed access token for the FHIR client (`smart_app.fhir_client.TokenSource`).

The token is refreshed before it expires (less than `REFRESH_MARGIN_SECONDS` left) and once
after a 401. A refresh token is spent at most once: refreshes of one session are serialised by
the session's lock, and whoever gets the lock second finds the new token already there instead
of spending the old refresh token again (servers may revoke the whole grant on reuse). Across
worker processes the same holds through a claim on the session's row: a worker that cannot
claim the refresh waits for the one that did, and takes the token it stores (a claim lapses
after `REFRESH_CLAIM_SECONDS`, so a worker that died mid-refresh blocks nobody for long).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from pydantic import SecretStr

from smart_app.clock import Clock
from smart_app.errors import SessionExpiredError, SessionMissingError, TokenEndpointError
from smart_app.fhir_errors import TokenRefreshUnavailableError
from smart_app.session import LiveSession, SessionService, SmartSession
from smart_app.tokens import TokenResponse

__all__ = [
    "REFRESH_CLAIM_POLL_SECONDS",
    "REFRESH_CLAIM_SECONDS",
    "REFRESH_MARGIN_SECONDS",
    "Refresh",
    "SessionTokenSource",
]

log = logging.getLogger(__name__)

REFRESH_MARGIN_SECONDS = 60.0
#: How long one worker's claim to refresh lasts: longer than a token request may take.
REFRESH_CLAIM_SECONDS = 30.0
#: How often a worker waiting for another's refresh looks for the new token.
REFRESH_CLAIM_POLL_SECONDS = 0.1

#: Performs the refresh_token grant for a session (discovery + client authentication).
Refresh = Callable[[SmartSession], Awaitable[TokenResponse]]


def _session_over(ehr_name: str, why: str) -> SessionExpiredError:
    return SessionExpiredError(
        f"Your access to {ehr_name} for this patient has ended. Open the app from the EHR "
        "again to continue.",
        why,
    )


class SessionTokenSource:
    def __init__(
        self,
        session_id: str,
        *,
        sessions: SessionService,
        refresh: Refresh,
        clock: Clock,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._session_id = session_id
        self._sessions = sessions
        self._refresh = refresh
        self._clock = clock
        self._sleep = sleep
        self._handed_out: str | None = None

    def __repr__(self) -> str:
        return "SessionTokenSource(<session>)"

    async def access_token(self) -> str:
        live = await self._load()
        if not self._expiring(live.session):
            return self._hand_out(live.session.access_token)
        async with self._sessions.lock(self._session_id):
            live = await self._load()  # someone may have refreshed while we waited
            if not self._expiring(live.session):
                return self._hand_out(live.session.access_token)
            if live.session.refresh_token is None:
                if self._expired(live.session):
                    raise _session_over(
                        live.session.ehr_name, "access token expired; no refresh token granted"
                    )
                return self._hand_out(live.session.access_token)  # still valid for a moment
            return await self._refreshed(live, forced=False)

    async def refreshed_access_token(self) -> str:
        async with self._sessions.lock(self._session_id):
            live = await self._load()
            current = live.session.access_token.get_secret_value()
            if self._handed_out is not None and current != self._handed_out:
                return self._hand_out(live.session.access_token)  # already renewed by another
            if live.session.refresh_token is None:
                raise TokenRefreshUnavailableError("the EHR granted no refresh token")
            return await self._refreshed(live, forced=True)

    async def _load(self) -> LiveSession:
        live = await self._sessions.get(self._session_id)
        if live is None:
            raise SessionMissingError(
                "This app window is no longer signed in. Open the app from the EHR again.",
                "session ended or expired",
            )
        return live

    def _expiring(self, session: SmartSession) -> bool:
        expires = session.access_expires_at
        return expires is not None and expires - self._clock() < REFRESH_MARGIN_SECONDS

    def _expired(self, session: SmartSession) -> bool:
        expires = session.access_expires_at
        return expires is not None and expires <= self._clock()

    def _hand_out(self, token: SecretStr) -> str:
        self._handed_out = token.get_secret_value()
        return self._handed_out

    async def _refreshed(self, live: LiveSession, *, forced: bool) -> str:
        before = live.session.access_token.get_secret_value()
        while not await self._sessions.claim_refresh(self._session_id, REFRESH_CLAIM_SECONDS):
            # Another worker process is refreshing: take what it stores.
            await self._sleep(REFRESH_CLAIM_POLL_SECONDS)
            live = await self._load()
            if live.session.access_token.get_secret_value() != before:
                return self._hand_out(live.session.access_token)
        try:
            live = await self._load()  # as it is now that the claim is ours
            if live.session.access_token.get_secret_value() != before:
                return self._hand_out(live.session.access_token)  # renewed meanwhile
            if live.session.refresh_token is None:  # refused while another worker held it
                if forced:
                    raise TokenRefreshUnavailableError("refresh refused in another worker")
                if self._expired(live.session):
                    raise _session_over(live.session.ehr_name, "refresh refused in another worker")
                return self._hand_out(live.session.access_token)
            return await self._spend_refresh_token(live, forced=forced)
        finally:
            await self._sessions.release_refresh(self._session_id)

    async def _spend_refresh_token(self, live: LiveSession, *, forced: bool) -> str:
        session = live.session
        try:
            response = await self._refresh(session)
        except TokenEndpointError as exc:
            if exc.error_code in ("invalid_grant", "invalid_client", "unauthorized_client"):
                # The refresh token is dead; forget it so it is never sent again.
                await self._sessions.update(
                    live, session.model_copy(update={"refresh_token": None})
                )
                if forced:
                    raise TokenRefreshUnavailableError(
                        f"refresh refused: {exc.error_code}"
                    ) from None
                raise _session_over(
                    session.ehr_name, f"refresh refused: {exc.error_code}"
                ) from None
            raise
        now = self._clock()
        renewed = session.model_copy(
            update={
                "access_token": response.access_token,
                # A server that does not rotate refresh tokens sends none back: keep ours.
                "refresh_token": response.refresh_token or session.refresh_token,
                "access_expires_at": now + response.expires_in
                if response.expires_in is not None
                else None,
                "granted_scope": response.scope or session.granted_scope,
            }
        )
        if not await self._sessions.update(live, renewed):
            log.warning("session changed during a token refresh; the newer session state was kept")
        log.info("access token refreshed for EHR %s", session.ehr_name)
        return self._hand_out(response.access_token)
