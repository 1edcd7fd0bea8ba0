"""Verifying the CDS client's JWT on every call (CDS Hooks 2.0 §Trusting CDS Clients, §JWT
Signing Algorithm; the cds-hooks best-practices checklist):

1. ``Authorization: Bearer <JWT>``, a compact JWS;
2. `alg` in our allowlist of asymmetric algorithms (default ES384 and RS384: never ``none``,
   never HS*); `typ`, when sent, ``JWT``; `kid` present;
3. `iss` a registered CDS client; `jku`, when sent, exactly the client's registered jwks_url
   (a client configured with a JWK Set file is checked against the file and its `jku` is never
   fetched);
4. the signature, with the client's key named by `kid`;
5. `aud` the exact URL of the endpoint called; `exp` not passed and `iat` not in the future
   (with `leeway` seconds of clock skew), `nbf` honoured — each a finite number (RFC 7519
   NumericDate: never NaN, ±Infinity or a boolean) — a lifetime of at most
   `MAX_LIFETIME_SECONDS`; `tenant` the registered one when the registration names one;
6. `jti` present and never seen before (kept until the token expires) — recorded only once
   every other check has passed, so tokens we would refuse anyway cannot fill the store.

Any failure is a `ClientUnauthorizedError` whose `reason` names the check (for our log); the
client gets a bare 401. When the store of seen ids cannot answer, the store raises
`ReplayCheckUnavailableError` (503) and the token is not accepted. The token itself is never
logged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError

from plugin.cds_hooks.client_keys import ClientKeys
from plugin.cds_hooks.errors import ClientUnauthorizedError
from plugin.cds_hooks.replay import SeenTokenIds, SeenTokenIdsInMemory
from plugin.errors import ConfigurationError
from smart_app.clock import Clock
from smart_app.settings import CdsClientRegistration

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "DEFAULT_ALGORITHMS",
    "DEFAULT_LEEWAY_SECONDS",
    "MAX_LIFETIME_SECONDS",
    "ClientJwtVerifier",
    "VerifiedClient",
]

#: CDS Hooks 2.0 §JWT Signing Algorithm: ES384 and RS384 are the ones clients must support.
DEFAULT_ALGORITHMS: tuple[str, ...] = ("ES384", "RS384")
#: What a site may add to the allowlist: signatures with a public key only.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
)
DEFAULT_LEEWAY_SECONDS = 30.0
#: A CDS client token lives minutes (Epic: about five); an hour bounds the replay store.
MAX_LIFETIME_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class VerifiedClient:
    iss: str
    jti: str
    tenant: str | None


def _refuse(reason: str) -> ClientUnauthorizedError:
    return ClientUnauthorizedError(reason)


def _numeric_date(claims: dict[str, Any], name: str) -> float:
    """RFC 7519 §2 NumericDate: a finite number of seconds. JSON as Python reads it also
    gives NaN and ±Infinity, which every comparison would wave through (NaN) or which no
    expiry could be stored for; a boolean is not a number either."""
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _refuse(f"claim {name} missing or not a number")
    try:
        seconds = float(value)
    except OverflowError:  # an integer beyond any float
        raise _refuse(f"claim {name} is not a finite NumericDate") from None
    if not math.isfinite(seconds):
        raise _refuse(f"claim {name} is not a finite NumericDate")
    return seconds


class ClientJwtVerifier:
    def __init__(
        self,
        clients: Sequence[CdsClientRegistration],
        keys: ClientKeys,
        clock: Clock,
        *,
        algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
        leeway: float = DEFAULT_LEEWAY_SECONDS,
        seen: SeenTokenIds | None = None,
    ) -> None:
        """`seen` keeps the used `jti`s; the service passes the database store shared by its
        workers. Without one they are kept in this process's memory."""
        unsafe = sorted(set(algorithms) - ASYMMETRIC_ALGORITHMS)
        if unsafe or not algorithms:
            raise ConfigurationError(
                "CDS client JWT algorithms must be asymmetric signature algorithms "
                f"(refused: {', '.join(unsafe) or 'an empty list'})"
            )
        self._clients = {client.iss: client for client in reversed(clients)}
        self._keys = keys
        self._clock = clock
        self._algorithms = tuple(algorithms)
        self._leeway = leeway
        self._seen: SeenTokenIds = seen if seen is not None else SeenTokenIdsInMemory()

    async def verify(self, authorization: str | None, audience: str) -> VerifiedClient:
        """The verified client, for a call of the endpoint at URL `audience`."""
        token = _bearer(authorization)
        try:
            compact = jws.extract_compact(token.encode("ascii"))
            header = compact.headers()
            claims = json.loads(compact.payload)
        except (JoseError, ValueError, UnicodeError):
            raise _refuse("not a compact JWS") from None
        if not isinstance(claims, dict):
            raise _refuse("payload is not a JSON object")
        alg = header.get("alg")
        if alg not in self._algorithms:
            raise _refuse(f"alg {alg!r} not allowed")
        typ = header.get("typ")
        if typ is not None and (not isinstance(typ, str) or typ.upper() != "JWT"):
            raise _refuse("typ is not JWT")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _refuse("kid missing")
        client = self._client(claims.get("iss"), header.get("jku"))
        key = await self._keys.key(client, kid)
        try:
            jwt.decode(token, key, algorithms=[str(alg)])
        except (JoseError, ValueError):
            raise _refuse("signature does not verify with the client's key") from None
        now = self._clock()
        verified, keep_until = self._checked_claims(claims, client, audience, now)
        if not await self._seen.first_use(
            verified.iss, verified.jti, keep_until=keep_until, now=now
        ):
            raise _refuse("jti replayed")
        return verified

    def _client(self, iss: Any, jku: Any) -> CdsClientRegistration:
        if not isinstance(iss, str) or iss not in self._clients:
            raise _refuse("iss is not a registered CDS client")
        client = self._clients[iss]
        if jku is not None and client.jwks_file is None and jku != client.jwks_url:
            raise _refuse("jku is not the client's registered jwks_url")
        return client

    def _checked_claims(
        self, claims: dict[str, Any], client: CdsClientRegistration, audience: str, now: float
    ) -> tuple[VerifiedClient, float]:
        """The client the claims name, and until when its `jti` must be kept."""
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if audience not in audiences:
            raise _refuse("aud is not this endpoint's URL")
        exp, iat = _numeric_date(claims, "exp"), _numeric_date(claims, "iat")
        if now > exp + self._leeway:
            raise _refuse("token expired")
        if iat > now + self._leeway:
            raise _refuse("iat is in the future")
        if exp - iat > MAX_LIFETIME_SECONDS or now - iat > MAX_LIFETIME_SECONDS + self._leeway:
            raise _refuse("token lifetime too long")
        if "nbf" in claims and _numeric_date(claims, "nbf") > now + self._leeway:
            raise _refuse("token not yet valid (nbf)")
        tenant = claims.get("tenant")
        if client.tenant is not None and tenant != client.tenant:
            raise _refuse("tenant is not the registered one")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise _refuse("jti missing")
        verified = VerifiedClient(
            iss=client.iss, jti=jti, tenant=tenant if isinstance(tenant, str) else None
        )
        return verified, exp + self._leeway


def _bearer(authorization: str | None) -> str:
    if authorization is None:
        raise _refuse("no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _refuse("Authorization is not a Bearer token")
    return token.strip()
