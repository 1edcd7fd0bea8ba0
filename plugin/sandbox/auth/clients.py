"""Registered clients as authlib's authorization server sees them (its ClientMixin)."""

from __future__ import annotations

import secrets
from collections.abc import Collection

from plugin.sandbox.auth.scopes import grantable
from plugin.sandbox.config import ClientAuthMethod, SandboxClient

__all__ = ["RegisteredClient"]


class RegisteredClient:
    """One registration: exact redirect URIs, one token endpoint auth method, the code and
    refresh grants only."""

    def __init__(self, registration: SandboxClient, withheld_scopes: Collection[str]) -> None:
        self.registration = registration
        self._withheld = frozenset(withheld_scopes)

    @property
    def client_id(self) -> str:
        return self.registration.client_id

    @property
    def auth_method(self) -> ClientAuthMethod:
        return self.registration.auth_method

    def get_client_id(self) -> str:
        return self.registration.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # SMART apps always send redirect_uri; there is no default to fall back on

    def allowed_scopes(self, requested: str | None) -> list[str]:
        """What the sandbox grants of a request: scopes it understands, minus withheld ones."""
        scopes = dict.fromkeys((requested or "").split())
        return [s for s in scopes if grantable(s) and s not in self._withheld]

    def get_allowed_scope(self, scope: str | None) -> str:
        return " ".join(self.allowed_scopes(scope))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.registration.redirect_uris  # exact match, no patterns

    def check_client_secret(self, client_secret: str) -> bool:
        secret = self.registration.client_secret
        return secret is not None and secrets.compare_digest(
            secret.get_secret_value().encode(), client_secret.encode()
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if endpoint == "token":
            return method == self.registration.auth_method.value
        return True

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")
