"""The EHR's id_token signing keys (App Launch §Steps for using an ID token).

`{issuer}/.well-known/openid-configuration` → `jwks_uri` → JWK Set, falling back to the
smart-configuration's `jwks_uri` when the OpenID document is missing. The issuer is never taken
from the (still unverified) id_token alone: it must be the smart-configuration's `issuer`, or,
when that is absent, live on the origin of the FHIR base or the authorization server — the app
does not go fetching keys wherever a token points. Key sets are cached; an unknown `kid` fetches
the set once more (the server may have rotated its keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from smart_app.clock import Clock
from smart_app.discovery import SmartConfiguration
from smart_app.errors import IdTokenError
from smart_app.settings import EhrRegistration
from smart_app.tokens import IdTokenClaims, UnknownSigningKeyError, validate_id_token

__all__ = ["KEY_SET_TTL_SECONDS", "IdTokenVerifier"]

KEY_SET_TTL_SECONDS = 600.0


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _problem(detail: str) -> IdTokenError:
    return IdTokenError(
        "The app could not check the EHR's confirmation of who is signed in, so it stopped for "
        "safety. Try again; if it keeps happening, tell the EHR's integration team.",
        detail,
    )


@dataclass(slots=True)
class _CachedKeys:
    key_set: KeySet
    fetched_at: float


class IdTokenVerifier:
    def __init__(self, http: httpx.AsyncClient, clock: Clock, *, allow_plain_http: bool) -> None:
        self._http = http
        self._clock = clock
        self._allow_plain_http = allow_plain_http
        self._key_sets: dict[str, _CachedKeys] = {}

    async def verify(
        self,
        id_token: str,
        *,
        claimed_issuer: str,
        registration: EhrRegistration,
        configuration: SmartConfiguration,
    ) -> IdTokenClaims:
        issuer = self._trusted_issuer(claimed_issuer, registration, configuration)
        jwks_uri = await self._jwks_uri(issuer, configuration)
        now = self._clock()
        keys = await self._key_set(jwks_uri, refresh=False)
        try:
            return validate_id_token(
                id_token, keys, issuer=issuer, client_id=registration.client_id, now=now
            )
        except UnknownSigningKeyError:
            keys = await self._key_set(jwks_uri, refresh=True)
        try:
            return validate_id_token(
                id_token, keys, issuer=issuer, client_id=registration.client_id, now=now
            )
        except UnknownSigningKeyError:
            raise IdTokenError(
                "The EHR's confirmation of who is signed in was signed with a key the EHR does "
                "not publish, so the app stopped for safety. Tell the EHR's integration team.",
                "id_token rejected: its kid is not in the server's JWK Set",
            ) from None

    def _trusted_issuer(
        self, claimed: str, registration: EhrRegistration, configuration: SmartConfiguration
    ) -> str:
        if configuration.issuer is not None:
            if claimed.rstrip("/") != configuration.issuer.rstrip("/"):
                raise IdTokenError(
                    "The EHR's confirmation of who is signed in came from an unexpected issuer, "
                    "so the app stopped for safety. Tell the EHR's integration team.",
                    "id_token rejected: iss is not the smart-configuration issuer",
                )
            return claimed
        trusted_origins = {_origin(registration.iss), _origin(configuration.token_endpoint)}
        if configuration.authorization_endpoint is not None:
            trusted_origins.add(_origin(configuration.authorization_endpoint))
        if _origin(claimed) not in trusted_origins:
            raise IdTokenError(
                "The EHR's confirmation of who is signed in came from an unexpected issuer, so "
                "the app stopped for safety. Tell the EHR's integration team.",
                "id_token rejected: iss is not on the origin of the FHIR or authorization server",
            )
        return claimed

    def _check_tls(self, url: str) -> None:
        if not self._allow_plain_http and urlsplit(url).scheme != "https":
            raise _problem(f"id_token keys would be fetched over plain http ({_origin(url)})")

    async def _jwks_uri(self, issuer: str, configuration: SmartConfiguration) -> str:
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        self._check_tls(url)
        try:
            response = await self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise _problem(f"GET openid-configuration failed: {type(exc).__name__}") from None
        if response.status_code == 404 and configuration.jwks_uri is not None:
            return configuration.jwks_uri
        if response.status_code != 200:
            raise _problem(f"GET openid-configuration returned HTTP {response.status_code}")
        try:
            document = response.json()
        except ValueError:
            raise _problem("openid-configuration is not JSON") from None
        if not isinstance(document, dict):
            raise _problem("openid-configuration is not a JSON object")
        if str(document.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
            raise _problem("openid-configuration issuer differs from the id_token's iss")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri:
            raise _problem("openid-configuration has no jwks_uri")
        return jwks_uri

    async def _key_set(self, jwks_uri: str, *, refresh: bool) -> KeySet:
        now = self._clock()
        cached = self._key_sets.get(jwks_uri)
        if cached is not None and not refresh and now - cached.fetched_at < KEY_SET_TTL_SECONDS:
            return cached.key_set
        self._check_tls(jwks_uri)
        try:
            response = await self._http.get(jwks_uri, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise _problem(f"GET jwks_uri failed: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise _problem(f"GET jwks_uri returned HTTP {response.status_code}")
        try:
            document = response.json()
            # Only public asymmetric keys can verify an id_token; anything else is dropped.
            keys = [
                key
                for key in document["keys"]
                if isinstance(key, dict) and key.get("kty") in ("RSA", "EC") and "d" not in key
            ]
            key_set = KeySet.import_key_set({"keys": keys})
        except (ValueError, KeyError, TypeError, JoseError):
            raise _problem("jwks_uri did not return a usable JWK Set") from None
        self._key_sets[jwks_uri] = _CachedKeys(key_set, now)
        return key_set
