"""What the sandbox authorization server remembers: launch contexts, authorization requests
waiting for the user, authorization codes, grants and their tokens, and client assertion ids.

Kept in memory (the sandbox is one process; a restart signs everyone out). A *grant* is one
user's authorization of one client: every token issued from its code or by refreshing belongs
to it, so revoking it — on a replayed code or a reused refresh token — ends them all.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from plugin.sandbox.clock import Clock

__all__ = [
    "AccessToken",
    "AuthorizationCode",
    "AuthorizationRecords",
    "AuthorizationSubject",
    "Grant",
    "LaunchContext",
    "PendingAuthorization",
    "RefreshToken",
]


def _new_secret() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


@dataclass(frozen=True, slots=True)
class LaunchContext:
    """An EHR launch: the EHR page opened the app for this patient, encounter and user."""

    id: str
    client_id: str
    patient: str
    encounter: str | None
    user: str  # Practitioner id
    expires_at: datetime
    app_context: str | None = None  # a CDS Hooks card link's appContext (CDS Hooks §Link)


@dataclass(frozen=True, slots=True)
class AuthorizationSubject:
    """Who authorized, and the context bound to the authorization (authlib's "user")."""

    user: str  # Practitioner id
    patient: str | None
    encounter: str | None
    nonce: str | None = None
    app_context: str | None = None  # returned as `appContext` with the access token

    def get_user_id(self) -> str:  # authlib reads the user's id through this name
        return self.user


@dataclass(slots=True)
class PendingAuthorization:
    """A validated authorization request waiting for the user (patient picker, consent).

    Its id is unguessable and used once, so it doubles as the CSRF token of those forms.
    """

    id: str
    client_id: str
    params: dict[str, str]  # the authorization request as received
    scopes: list[str]  # what will be granted if the user allows
    user: str
    patient: str | None
    encounter: str | None
    needs_patient: bool
    expires_at: datetime
    app_context: str | None = None


@dataclass(frozen=True, slots=True)
class AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    code_challenge: str
    code_challenge_method: str
    subject: AuthorizationSubject
    expires_at: datetime

    # authlib's AuthorizationCodeMixin
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass(slots=True)
class Grant:
    id: str
    client_id: str
    subject: AuthorizationSubject
    scope: str
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    grant_id: str
    client_id: str
    scope: str
    subject: AuthorizationSubject
    expires_at: datetime


@dataclass(slots=True)
class RefreshToken:
    token: str
    grant_id: str
    client_id: str
    scope: str
    subject: AuthorizationSubject
    expires_at: datetime
    used: bool = False

    # authlib's TokenMixin, as the refresh grant uses it
    def check_client(self, client: Any) -> bool:
        return bool(client.get_client_id() == self.client_id)

    def get_scope(self) -> str:
        return self.scope


@dataclass(slots=True)
class AuthorizationRecords:
    clock: Clock
    launches: dict[str, LaunchContext] = field(default_factory=dict)
    pending: dict[str, PendingAuthorization] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    used_codes: dict[str, str] = field(default_factory=dict)  # code → grant id
    grants: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    assertion_ids: dict[tuple[str, str], datetime] = field(default_factory=dict)

    # -- launches ---------------------------------------------------------------------

    def create_launch(
        self,
        client_id: str,
        patient: str,
        encounter: str | None,
        user: str,
        lifetime: timedelta,
        *,
        app_context: str | None = None,
    ) -> LaunchContext:
        launch = LaunchContext(
            _new_secret(),
            client_id,
            patient,
            encounter,
            user,
            self.clock() + lifetime,
            app_context,
        )
        self.launches[launch.id] = launch
        return launch

    def launch(self, launch_id: str) -> LaunchContext | None:
        """A launch still valid (apps may retry one, so it is not used up)."""
        launch = self.launches.get(launch_id)
        return launch if launch is not None and launch.expires_at > self.clock() else None

    # -- authorization requests waiting for the user ----------------------------------

    def add_pending(self, pending: PendingAuthorization) -> None:
        self.pending[pending.id] = pending

    def new_pending_id(self) -> str:
        return _new_secret()

    def pending_request(self, request_id: str) -> PendingAuthorization | None:
        pending = self.pending.get(request_id)
        if pending is None or pending.expires_at <= self.clock():
            return None
        return pending

    def finish_pending(self, request_id: str) -> PendingAuthorization | None:
        pending = self.pending_request(request_id)
        self.pending.pop(request_id, None)
        return pending

    # -- codes ------------------------------------------------------------------------

    def save_code(self, code: AuthorizationCode) -> None:
        self.codes[code.code] = code

    def find_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        """An unexpired, unused code issued to `client_id`. A code presented a second time
        revokes every token issued from it (RFC 6749 §4.1.2)."""
        if code in self.used_codes:
            self.revoke_grant(self.used_codes[code])
            return None
        found = self.codes.get(code)
        if found is None or found.client_id != client_id or found.expires_at <= self.clock():
            return None
        return found

    def use_code(self, code: AuthorizationCode, grant_id: str) -> None:
        self.codes.pop(code.code, None)
        self.used_codes[code.code] = grant_id

    # -- grants and tokens -------------------------------------------------------------

    def new_grant(self, client_id: str, subject: AuthorizationSubject, scope: str) -> Grant:
        grant = Grant(_new_secret(), client_id, subject, scope)
        self.grants[grant.id] = grant
        return grant

    def revoke_grant(self, grant_id: str) -> None:
        grant = self.grants.get(grant_id)
        if grant is not None:
            grant.revoked = True

    def issue_access_token(self, grant: Grant, scope: str, lifetime: timedelta) -> AccessToken:
        token = AccessToken(
            _new_secret(), grant.id, grant.client_id, scope, grant.subject,
            self.clock() + lifetime,
        )  # fmt: skip
        self.access_tokens[token.token] = token
        return token

    def issue_refresh_token(self, grant: Grant, scope: str, lifetime: timedelta) -> RefreshToken:
        token = RefreshToken(
            _new_secret(), grant.id, grant.client_id, scope, grant.subject,
            self.clock() + lifetime,
        )  # fmt: skip
        self.refresh_tokens[token.token] = token
        return token

    def access_token(self, token: str) -> AccessToken | None:
        """The access token if it is known, unexpired and its grant not revoked."""
        found = self.access_tokens.get(token)
        if found is None or found.expires_at <= self.clock() or self._revoked(found.grant_id):
            return None
        return found

    def refresh_token(self, token: str) -> RefreshToken | None:
        """The refresh token if usable. Presenting one already used revokes its grant:
        a refresh token is used once (SMART App Launch §Best practices)."""
        found = self.refresh_tokens.get(token)
        if found is None or self._revoked(found.grant_id):
            return None
        if found.used:
            self.revoke_grant(found.grant_id)
            return None
        if found.expires_at <= self.clock():
            return None
        return found

    def grant(self, grant_id: str) -> Grant | None:
        grant = self.grants.get(grant_id)
        return None if grant is None or grant.revoked else grant

    def _revoked(self, grant_id: str) -> bool:
        grant = self.grants.get(grant_id)
        return grant is None or grant.revoked

    def revoke_access_token(self, token: str) -> None:
        """End one access token now (tests: "token expired between two requests")."""
        found = self.access_tokens.get(token)
        if found is not None:
            self.access_tokens[token] = AccessToken(
                found.token, found.grant_id, found.client_id, found.scope, found.subject,
                self.clock(),
            )  # fmt: skip

    # -- client assertions ------------------------------------------------------------

    def first_use_of_assertion(self, client_id: str, jti: str, expires_at: datetime) -> bool:
        """Remember a client assertion's `jti` until it expires; False if seen before."""
        now = self.clock()
        for key in [k for k, until in self.assertion_ids.items() if until <= now]:
            del self.assertion_ids[key]
        key = (client_id, jti)
        if key in self.assertion_ids:
            return False
        self.assertion_ids[key] = max(expires_at, now + timedelta(minutes=5))
        return True
