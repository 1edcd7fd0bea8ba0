from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from plugin.cds_hooks.client_keys import (
    KEY_SET_MAX_STALE_SECONDS,
    KEY_SET_TTL_SECONDS,
    REFETCH_MIN_SECONDS,
    ClientKeys,
    public_key_set,
)
from plugin.cds_hooks.errors import ClientUnauthorizedError
from smart_app.settings import CdsClientRegistration
from tests.cds_hooks.conftest import ClientKeysForTests, Clock

URL = "https://ehr.example.org/jwks.json"
CLIENT = CdsClientRegistration(iss="https://ehr.example.org", jwks_url=URL)


def keys_on(handler: Any, clock: Clock) -> ClientKeys:
    """ClientKeys whose HTTP goes to `handler` (an httpx.MockTransport handler)."""
    return ClientKeys(
        httpx.AsyncClient(transport=httpx.MockTransport(handler)), clock, allow_plain_http=False
    )


class Jwks:
    def __init__(self, documents: list[dict[str, Any]]) -> None:
        self.documents = documents
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return httpx.Response(200, json=self.documents[min(self.calls, len(self.documents)) - 1])


async def test_unknown_kid_refetches_once_then_refuses(
    client_keys: ClientKeysForTests, clock: Clock
) -> None:
    ec_only = {"keys": [client_keys.ec.as_dict(private=False)]}
    server = Jwks([ec_only, client_keys.jwks()])
    keys = keys_on(server, clock)
    assert await keys.key(CLIENT, "ec-1") is not None
    clock.now += REFETCH_MIN_SECONDS + 1
    assert await keys.key(CLIENT, "rsa-1") is not None  # the client rotated in a new key
    assert server.calls == 2
    with pytest.raises(ClientUnauthorizedError):
        await keys.key(CLIENT, "never")  # too soon to fetch again
    assert server.calls == 2
    clock.now += KEY_SET_TTL_SECONDS
    await keys.key(CLIENT, "ec-1")
    await keys.refreshed()
    assert server.calls == 3  # a stale cache is fetched again


async def test_a_stale_set_is_used_while_it_is_fetched_again_in_the_background(
    client_keys: ClientKeysForTests, clock: Clock
) -> None:
    ec_only = {"keys": [client_keys.ec.as_dict(private=False)]}
    rsa_only = {"keys": [client_keys.rsa.as_dict(private=False)]}
    release = asyncio.Event()
    calls: list[int] = []

    async def jwks(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) > 1:
            await release.wait()  # the client's server is slow
        return httpx.Response(200, json=ec_only if len(calls) == 1 else rsa_only)

    keys = keys_on(jwks, clock)
    await keys.key(CLIENT, "ec-1")
    clock.now += KEY_SET_TTL_SECONDS + 1
    # The call does not wait for the slow server: the cached key answers it.
    assert (await asyncio.wait_for(keys.key(CLIENT, "ec-1"), 1.0)).kid == "ec-1"
    await keys.key(CLIENT, "ec-1")
    assert len(calls) == 2  # one refresh under way, not one per call
    release.set()
    await keys.refreshed()
    clock.now += REFETCH_MIN_SECONDS + 1
    assert (await keys.key(CLIENT, "rsa-1")).kid == "rsa-1"  # the refreshed set, no fetch
    assert len(calls) == 2
    with pytest.raises(ClientUnauthorizedError):
        await keys.key(CLIENT, "ec-1")  # withdrawn by the client (an inline refetch says so)
    await keys.aclose()


async def test_a_failing_refresh_keeps_the_set_until_it_is_too_old(
    client_keys: ClientKeysForTests, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    responses = [httpx.Response(200, json=client_keys.jwks())]

    def jwks(request: httpx.Request) -> httpx.Response:
        return responses.pop(0) if responses else httpx.Response(503)

    keys = keys_on(jwks, clock)
    await keys.key(CLIENT, "ec-1")
    clock.now += KEY_SET_TTL_SECONDS + 1
    assert (await keys.key(CLIENT, "ec-1")).kid == "ec-1"
    await keys.refreshed()
    assert "refreshing a CDS client's JWK Set failed: jwks_url answered HTTP 503" in caplog.text
    clock.now += KEY_SET_MAX_STALE_SECONDS
    with pytest.raises(ClientUnauthorizedError, match="503"):
        await keys.key(CLIENT, "ec-1")  # too old to trust: fetched in the call, and it fails


async def test_jwks_url_must_be_https(clock: Clock) -> None:
    client = CdsClientRegistration(iss="x", jwks_url="http://ehr.example.org/jwks.json")
    keys = ClientKeys(httpx.AsyncClient(), clock, allow_plain_http=True)
    with pytest.raises(ClientUnauthorizedError):
        await keys.key(client, "k")


async def test_failing_jwks_url(clock: Clock) -> None:
    for response in (
        httpx.Response(500),
        httpx.Response(200, text="nope"),
        httpx.Response(200, json={"x": 1}),
    ):
        http = httpx.AsyncClient(transport=httpx.MockTransport(lambda _, r=response: r))
        with pytest.raises(ClientUnauthorizedError):
            await ClientKeys(http, clock, allow_plain_http=False).key(CLIENT, "k")


def test_private_or_symmetric_keys_are_refused(client_keys: ClientKeysForTests) -> None:
    with pytest.raises(ClientUnauthorizedError):
        public_key_set({"keys": [client_keys.ec.as_dict(private=True)]}, "test")
    with pytest.raises(ClientUnauthorizedError):
        public_key_set({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}]}, "test")
    # A published symmetric secret is a leak: no key of that set is trusted.
    mixed = {
        "keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}, client_keys.ec.as_dict(private=False)]
    }
    with pytest.raises(ClientUnauthorizedError, match="the client's set holds private key"):
        public_key_set(mixed, "the client's set")
    public_only = {
        "keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AA"}, *client_keys.jwks()["keys"]]
    }
    assert [key.kid for key in public_key_set(public_only, "test").keys] == ["ec-1", "rsa-1"]


class DownAfterFirst:
    """A JWKS server that answers once, then cannot be reached; counts the requests it sees."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.requests > 1:
            raise httpx.ConnectTimeout("down", request=request)
        return httpx.Response(200, json=self.document)


async def _reasons(keys: ClientKeys, kid: str, calls: int) -> set[str]:
    reasons: set[str] = set()
    for _ in range(calls):
        with pytest.raises(ClientUnauthorizedError) as refused:
            await keys.key(CLIENT, kid)
        reasons.add(refused.value.reason)
    return reasons


async def test_made_up_kids_while_the_server_is_down_fetch_at_most_every_refetch_interval(
    client_keys: ClientKeysForTests, clock: Clock
) -> None:
    server = DownAfterFirst(client_keys.jwks())
    keys = keys_on(server, clock)
    await keys.key(CLIENT, "ec-1")
    clock.now += 60
    # One fetch, then the others fail at once with its reason instead of each waiting on it.
    assert await _reasons(keys, "forged", 20) == {"jwks_url fetch failed: ConnectTimeout"}
    assert server.requests == 2
    assert (await keys.key(CLIENT, "ec-1")).kid == "ec-1"  # the cached set still serves
    clock.now += REFETCH_MIN_SECONDS
    assert await _reasons(keys, "forged", 20) == {"jwks_url fetch failed: ConnectTimeout"}
    assert server.requests == 3


async def test_a_too_old_set_is_fetched_at_most_every_refetch_interval_while_the_server_is_down(
    client_keys: ClientKeysForTests, clock: Clock
) -> None:
    server = DownAfterFirst(client_keys.jwks())
    keys = keys_on(server, clock)
    await keys.key(CLIENT, "ec-1")
    clock.now += KEY_SET_MAX_STALE_SECONDS + 100
    assert await _reasons(keys, "ec-1", 20) == {"jwks_url fetch failed: ConnectTimeout"}
    assert server.requests == 2
    clock.now += REFETCH_MIN_SECONDS
    assert await _reasons(keys, "ec-1", 5) == {"jwks_url fetch failed: ConnectTimeout"}
    assert server.requests == 3


async def test_a_failed_background_refresh_counts_as_the_last_attempt(
    client_keys: ClientKeysForTests, clock: Clock
) -> None:
    server = DownAfterFirst(client_keys.jwks())
    keys = keys_on(server, clock)
    await keys.key(CLIENT, "ec-1")
    clock.now += KEY_SET_TTL_SECONDS + 1
    assert (await keys.key(CLIENT, "ec-1")).kid == "ec-1"
    await keys.refreshed()
    assert server.requests == 2
    clock.now += REFETCH_MIN_SECONDS - 1
    assert await _reasons(keys, "forged", 3) == {"jwks_url fetch failed: ConnectTimeout"}
    assert server.requests == 2


async def test_an_unknown_kid_just_after_a_successful_fetch_is_refused_without_fetching(
    client_keys: ClientKeysForTests, clock: Clock
) -> None:
    server = Jwks([client_keys.jwks()])
    keys = keys_on(server, clock)
    assert await _reasons(keys, "forged", 3) == {
        "kid not in the JWK Set of client 'https://ehr.example.org'"
    }
    assert server.calls == 1  # the first call's own fetch, not one per call


async def test_simultaneous_calls_share_one_fetch(
    client_keys: ClientKeysForTests, clock: Clock
) -> None:
    release = asyncio.Event()
    requests: list[httpx.Request] = []

    async def jwks(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        await release.wait()  # every call arrives while the fetch is under way
        return httpx.Response(200, json=client_keys.jwks())

    keys = keys_on(jwks, clock)
    calls = [asyncio.create_task(keys.key(CLIENT, "ec-1")) for _ in range(20)]
    await asyncio.sleep(0.01)
    release.set()
    assert {key.kid for key in await asyncio.gather(*calls)} == {"ec-1"}
    assert len(requests) == 1

    clock.now += REFETCH_MIN_SECONDS
    release.clear()
    forged = [asyncio.create_task(keys.key(CLIENT, "forged")) for _ in range(20)]
    await asyncio.sleep(0.01)
    release.set()
    outcomes = await asyncio.gather(*forged, return_exceptions=True)
    assert all(isinstance(outcome, ClientUnauthorizedError) for outcome in outcomes)
    assert len(requests) == 2


async def test_a_caller_giving_up_does_not_cancel_the_fetch_others_wait_on(
    client_keys: ClientKeysForTests, clock: Clock
) -> None:
    release = asyncio.Event()
    requests: list[httpx.Request] = []

    async def jwks(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        await release.wait()
        return httpx.Response(200, json=client_keys.jwks())

    keys = keys_on(jwks, clock)
    leaving = asyncio.create_task(keys.key(CLIENT, "ec-1"))
    staying = asyncio.create_task(keys.key(CLIENT, "rsa-1"))
    await asyncio.sleep(0.01)
    leaving.cancel()
    release.set()
    assert (await staying).kid == "rsa-1"
    assert leaving.cancelled()
    assert len(requests) == 1


async def test_aclose_stops_a_refresh_under_way(
    client_keys: ClientKeysForTests, clock: Clock
) -> None:
    never = asyncio.Event()
    requests: list[httpx.Request] = []

    async def jwks(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if len(requests) > 1:
            await never.wait()  # the client's server hangs
        return httpx.Response(200, json=client_keys.jwks())

    keys = keys_on(jwks, clock)
    await keys.key(CLIENT, "ec-1")
    clock.now += KEY_SET_TTL_SECONDS + 1
    await keys.key(CLIENT, "ec-1")
    await asyncio.sleep(0.01)
    assert len(requests) == 2
    await asyncio.wait_for(keys.aclose(), 1.0)
