"""Public keys of `private_key_jwt` clients (SMART Client Authentication: Asymmetric): the JWK
Set stored with the registration, or fetched from the registered JWKS URL.

A JWKS URL on the sandbox's own origin (the app it hosts) is fetched in-process through the
sandbox's ASGI app rather than over the network, so the sandbox works the same under uvicorn
and in tests. Fetched sets are cached and fetched again when an assertion names a `kid` the
cached set lacks (the client rotated its key).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from joserfc.jwk import KeySet
from starlette.types import ASGIApp

from plugin.jwk_set import JwkSetInvalidError, public_key_set
from plugin.sandbox.clock import Clock
from plugin.sandbox.config import SandboxClient

__all__ = ["ClientKeyError", "ClientKeys"]

_CACHE_SECONDS = 300
_FETCH_TIMEOUT_SECONDS = 5.0


class ClientKeyError(Exception):
    """The client's keys cannot be had; the token endpoint answers invalid_client."""


@dataclass(frozen=True, slots=True)
class _Cached:
    keys: KeySet
    kids: frozenset[str]
    fetched_at: datetime


def _public_key_set(document: Any, source: str) -> tuple[KeySet, frozenset[str]]:
    try:
        key_set = public_key_set(document)
    except JwkSetInvalidError as problem:
        raise ClientKeyError(f"{source} {problem}") from None
    return key_set, frozenset(key.kid for key in key_set.keys if key.kid)


class ClientKeys:
    def __init__(self, own_origin: str, own_app: Callable[[], ASGIApp], clock: Clock) -> None:
        self._own_origin = own_origin
        self._own_app = own_app
        self._clock = clock
        self._cache: dict[str, _Cached] = {}

    async def prepare(self, client: SandboxClient, kid: str | None) -> None:
        """Make sure `key_set` can answer for this client: fetch its JWKS URL if the cache is
        missing, stale, or lacks `kid`. Raises ClientKeyError when the URL fails."""
        if client.jwks_url is None:
            return
        cached = self._cache.get(client.client_id)
        fresh = cached is not None and self._clock() - cached.fetched_at < timedelta(
            seconds=_CACHE_SECONDS
        )
        if cached is not None and fresh and (kid is None or kid in cached.kids):
            return
        document = await self._fetch(client.jwks_url)
        keys, kids = _public_key_set(document, f"JWKS URL of client {client.client_id!r}")
        self._cache[client.client_id] = _Cached(keys, kids, self._clock())

    def key_set(self, client: SandboxClient) -> KeySet:
        if client.jwks is not None:
            return _public_key_set(client.jwks, f"JWKS of client {client.client_id!r}")[0]
        cached = self._cache.get(client.client_id)
        if cached is None:
            raise ClientKeyError(f"the JWKS of client {client.client_id!r} could not be fetched")
        return cached.keys

    async def _fetch(self, url: str) -> Any:
        parts = urlsplit(url)
        same_origin = f"{parts.scheme}://{parts.netloc}" == self._own_origin
        transport = httpx.ASGITransport(app=self._own_app()) if same_origin else None
        try:
            async with httpx.AsyncClient(
                transport=transport, timeout=_FETCH_TIMEOUT_SECONDS
            ) as http:
                response = await http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise ClientKeyError(f"fetching the client's JWKS URL failed: {exc}") from None
        if response.status_code != 200:
            raise ClientKeyError(f"the client's JWKS URL answered {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise ClientKeyError("the client's JWKS URL did not return JSON") from None
