"""The public keys of registered CDS clients: a JWK Set file configured with the client, or the
client's registered JWKS URL (the only `jku` we ever fetch — never one a token names).

Fetched sets are fresh for `KEY_SET_TTL_SECONDS`. After that a call still uses the cached set
and fetches it again in the background — a CDS call never waits on the client's server for a
routine refresh — until the set is `KEY_SET_MAX_STALE_SECONDS` old, when a call fetches it
itself (so a key the client withdrew stops working within that time, even while its server
cannot be reached). A `kid` the cached set lacks fetches it once more (the client rotated its
keys).

So that a stream of tokens (with made-up kids, or while the client's server is down) cannot make
us hammer that server or hold every call for the fetch timeout, a URL is fetched at most every
`REFETCH_MIN_SECONDS`: every attempt, in a call or in the background, is recorded, and a call
that would need a fetch within that time of the last attempt fails at once with the reason the
last attempt gave. Calls needing a fetch while one is under way share it (one request per URL
at a time). Only public RSA and EC keys are kept; a set carrying private key material is
refused.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

from plugin import jwk_set
from plugin.cds_hooks.errors import ClientUnauthorizedError
from plugin.cds_hooks.hook_request import is_loopback_host
from smart_app.clock import Clock
from smart_app.settings import CdsClientRegistration

__all__ = [
    "KEY_SET_MAX_STALE_SECONDS",
    "KEY_SET_TTL_SECONDS",
    "REFETCH_MIN_SECONDS",
    "ClientKeys",
    "public_key_set",
]

_log = logging.getLogger(__name__)

KEY_SET_TTL_SECONDS = 300.0
KEY_SET_MAX_STALE_SECONDS = 3600.0
REFETCH_MIN_SECONDS = 10.0
_FETCH_TIMEOUT = httpx.Timeout(5.0)

PublicKey = RSAKey | ECKey


def public_key_set(document: Any, source: str) -> KeySet:
    """The RSA and EC public keys of a JWK Set document; ClientUnauthorizedError otherwise."""
    try:
        return jwk_set.public_key_set(document)
    except jwk_set.JwkSetInvalidError as problem:
        raise ClientUnauthorizedError(f"{source} {problem}") from None


@dataclass(slots=True)
class _Cached:
    keys: KeySet
    fetched_at: float


@dataclass(frozen=True, slots=True)
class _Attempt:
    """The last fetch of a URL: when it started, and why it failed (None: it succeeded)."""

    at: float
    failure: str | None


# Recorded while a fetch is under way; left so if it is cancelled and never finishes.
_UNFINISHED = "jwks_url fetch did not complete"


class ClientKeys:
    def __init__(self, http: httpx.AsyncClient, clock: Clock, *, allow_plain_http: bool) -> None:
        self._http = http
        self._clock = clock
        self._allow_plain_http = allow_plain_http
        self._cache: dict[str, _Cached] = {}
        self._in_flight: dict[str, asyncio.Task[_Cached]] = {}
        self._last_attempt: dict[str, _Attempt] = {}

    async def key(self, client: CdsClientRegistration, kid: str) -> PublicKey:
        """The client's key `kid`; ClientUnauthorizedError when it has none such."""
        if client.jwks_file is not None:
            keys = self._file_keys(client.jwks_file)
            return _by_kid(keys, kid, client.iss)
        assert client.jwks_url is not None
        url = client.jwks_url
        not_found = f"kid not in the JWK Set of client {client.iss!r}"
        cached = self._cache.get(url)
        now = self._clock()
        if cached is None or now - cached.fetched_at >= KEY_SET_MAX_STALE_SECONDS:
            cached = await self._fetch_in_call(url, not_found)
        elif now - cached.fetched_at >= KEY_SET_TTL_SECONDS:
            self._refresh_in_background(url)
        found = _lookup(cached.keys, kid)
        if found is None:
            cached = await self._fetch_in_call(url, not_found)
            found = _lookup(cached.keys, kid)
        if found is None:
            raise ClientUnauthorizedError(not_found)
        return found

    async def refreshed(self) -> None:
        """Wait for the fetches under way (tests)."""
        await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def aclose(self) -> None:
        """Stop the fetches under way (before the HTTP client closes)."""
        for task in list(self._in_flight.values()):
            task.cancel()
        await self.refreshed()

    async def _fetch_in_call(self, url: str, not_found: str) -> _Cached:
        """The set fetched for this call: the fetch under way if there is one, else a new one —
        unless the last attempt was too recent, when the call fails with its reason at once."""
        task = self._in_flight.get(url)
        if task is None:
            last = self._last_attempt.get(url)
            if last is not None and self._clock() - last.at < REFETCH_MIN_SECONDS:
                raise ClientUnauthorizedError(last.failure or not_found)
            task = self._start_fetch(url)
        # Shielded: a caller giving up (its request cancelled) must not cancel the fetch the
        # other callers are waiting on.
        return await asyncio.shield(task)

    def _refresh_in_background(self, url: str) -> None:
        if url in self._in_flight:
            return
        last = self._last_attempt.get(url)
        if last is not None and self._clock() - last.at < REFETCH_MIN_SECONDS:
            return  # a fetch was just tried: not again on every call
        self._start_fetch(url).add_done_callback(_log_refresh_failure)

    def _start_fetch(self, url: str) -> asyncio.Task[_Cached]:
        attempt = _Attempt(self._clock(), _UNFINISHED)
        self._last_attempt[url] = attempt
        task = asyncio.get_running_loop().create_task(self._fetch(url))
        self._in_flight[url] = task
        task.add_done_callback(lambda done: self._finished(url, attempt, done))
        return task

    def _finished(self, url: str, attempt: _Attempt, task: asyncio.Task[_Cached]) -> None:
        # A done callback, not a `finally` in the task: it also runs for a task cancelled
        # before it started.
        if self._in_flight.get(url) is task:
            del self._in_flight[url]
        if task.cancelled():
            return  # stopped (aclose): the attempt stays recorded as unfinished
        error = task.exception()
        if isinstance(error, ClientUnauthorizedError):
            failure: str | None = error.reason
        elif error is not None:
            failure = f"jwks_url fetch failed: {type(error).__name__}"
        else:
            failure = None
        if self._last_attempt.get(url) is attempt:
            self._last_attempt[url] = _Attempt(attempt.at, failure)

    def _file_keys(self, path: Path) -> KeySet:
        cached = self._cache.get(f"file:{path}")
        now = self._clock()
        if cached is not None and now - cached.fetched_at < KEY_SET_TTL_SECONDS:
            return cached.keys
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise ClientUnauthorizedError(f"JWK Set file {path} cannot be read") from None
        keys = public_key_set(document, f"JWK Set file {path}")
        self._cache[f"file:{path}"] = _Cached(keys, now)
        return keys

    async def _fetch(self, url: str) -> _Cached:
        parts = urlsplit(url)
        if parts.scheme != "https" and not (
            self._allow_plain_http and parts.scheme == "http" and is_loopback_host(parts.hostname)
        ):
            raise ClientUnauthorizedError("the registered jwks_url is not https")
        try:
            response = await self._http.get(
                url, headers={"Accept": "application/json"}, timeout=_FETCH_TIMEOUT
            )
        except httpx.HTTPError as exc:
            raise ClientUnauthorizedError(f"jwks_url fetch failed: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise ClientUnauthorizedError(f"jwks_url answered HTTP {response.status_code}")
        try:
            document = response.json()
        except ValueError:
            raise ClientUnauthorizedError("jwks_url did not answer JSON") from None
        cached = _Cached(public_key_set(document, "the client's jwks_url"), self._clock())
        self._cache[url] = cached
        _log.info("fetched the JWK Set of a CDS client (%d keys)", len(cached.keys.keys))
        return cached


def _log_refresh_failure(task: asyncio.Task[_Cached]) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if isinstance(error, ClientUnauthorizedError):
        # The cached set stays in use until KEY_SET_MAX_STALE_SECONDS; the reason names no
        # token.
        _log.warning("refreshing a CDS client's JWK Set failed: %s", error.reason)
    elif error is not None:
        _log.warning("refreshing a CDS client's JWK Set failed: %s", type(error).__name__)


def _lookup(keys: KeySet, kid: str) -> PublicKey | None:
    try:
        key = keys.get_by_kid(kid)
    except (JoseError, ValueError):
        return None
    return key if isinstance(key, (RSAKey, ECKey)) else None


def _by_kid(keys: KeySet, kid: str, iss: str) -> PublicKey:
    found = _lookup(keys, kid)
    if found is None:
        raise ClientUnauthorizedError(f"kid not in the JWK Set of client {iss!r}")
    return found
