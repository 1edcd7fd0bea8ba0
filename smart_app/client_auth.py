"""OAuth client authentication per registration (SMART Client Authentication), on authlib.

- public: `client_id` in the token request body, no secret;
- client_secret_basic: HTTP Basic `client_id:client_secret` (Confidential Symmetric);
- private_key_jwt: an RFC 7523 client assertion (Confidential Asymmetric) signed RS384 or
  ES384, header `kid` + `typ: JWT`, claims `iss` = `sub` = client_id, `aud` = the token
  endpoint, `exp` 4 minutes ahead (the spec allows at most 5) and a fresh random `jti` on every
  request — a reused `jti` is rejected by servers as a replay.
"""

from __future__ import annotations

import secrets
import warnings
from typing import Any

import httpx
from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign

from plugin.errors import ConfigurationError
from smart_app.clock import Clock
from smart_app.keys import ClientKey
from smart_app.settings import ClientAuth, EhrRegistration

with warnings.catch_warnings():
    # authlib prefers the `httpx2` fork and warns when it falls back to httpx, which we use.
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

__all__ = [
    "ASSERTION_LIFETIME_SECONDS",
    "AsyncOAuth2Client",
    "SmartPrivateKeyJWT",
    "oauth_client",
]

ASSERTION_LIFETIME_SECONDS = 240
TOKEN_REQUEST_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


class SmartPrivateKeyJWT(PrivateKeyJWT):  # type: ignore[misc]  # authlib is untyped
    """`private_key_jwt` with SMART's assertion shape.

    authlib's own `PrivateKeyJWT` keeps one claims dict per instance (so its `jti` would repeat)
    and defaults to a one-hour `exp`; every assertion here is built from scratch instead.
    """

    name = "private_key_jwt"

    def __init__(self, key: ClientKey, clock: Clock) -> None:
        super().__init__(token_endpoint=None, alg=key.alg)
        self._key = key
        self._clock = clock

    def sign(self, auth: Any, token_endpoint: str) -> str:
        issued_at = int(self._clock())
        assertion: str = private_key_jwt_sign(
            self._key.key,
            client_id=auth.client_id,
            token_endpoint=token_endpoint,
            alg=self._key.alg,
            claims={"jti": secrets.token_urlsafe(32)},
            header={"kid": self._key.kid, "typ": "JWT"},
            issued_at=issued_at,
            expires_at=issued_at + ASSERTION_LIFETIME_SECONDS,
        )
        return assertion


def oauth_client(
    registration: EhrRegistration,
    *,
    redirect_uri: str,
    signing_key: ClientKey | None,
    clock: Clock,
    transport: httpx.AsyncBaseTransport | None,
) -> AsyncOAuth2Client:
    """An authlib OAuth 2.0 client for one EHR registration (PKCE S256 always)."""
    common: dict[str, Any] = {
        "client_id": registration.client_id,
        "redirect_uri": redirect_uri,
        "code_challenge_method": "S256",
        "transport": transport,
        "timeout": TOKEN_REQUEST_TIMEOUT,
        # Token endpoints must answer directly; following a redirect would re-post the code.
        "follow_redirects": False,
    }
    # authlib's names for the methods: "none" is the public client (client_id in the body).
    method = {
        ClientAuth.PUBLIC: "none",
        ClientAuth.CLIENT_SECRET_BASIC: "client_secret_basic",
        ClientAuth.PRIVATE_KEY_JWT: "private_key_jwt",
    }[registration.client_auth]
    secret = registration.client_secret
    client = AsyncOAuth2Client(
        client_secret=secret.get_secret_value()
        if registration.client_auth is ClientAuth.CLIENT_SECRET_BASIC and secret is not None
        else None,
        token_endpoint_auth_method=method,
        **common,
    )
    if registration.client_auth is ClientAuth.PRIVATE_KEY_JWT:
        if signing_key is None:
            raise ConfigurationError(
                f"ehr {registration.name!r}: private_key_jwt needs a loaded private_key_file"
            )
        client.register_client_auth_method(SmartPrivateKeyJWT(signing_key, clock))
    return client
