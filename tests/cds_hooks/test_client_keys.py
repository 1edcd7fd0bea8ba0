from __future__ import annotations

from typing import Any

import httpx
import pytest

from plugin.cds_hooks.client_keys import (
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
    keys = ClientKeys(
        httpx.AsyncClient(transport=httpx.MockTransport(server)), clock, allow_plain_http=False
    )
    assert await keys.key(CLIENT, "ec-1") is not None
    clock.now += REFETCH_MIN_SECONDS + 1
    assert await keys.key(CLIENT, "rsa-1") is not None  # the client rotated in a new key
    assert server.calls == 2
    with pytest.raises(ClientUnauthorizedError):
        await keys.key(CLIENT, "never")  # too soon to fetch again
    assert server.calls == 2
    clock.now += KEY_SET_TTL_SECONDS
    await keys.key(CLIENT, "ec-1")
    assert server.calls == 3  # expired cache


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
    with pytest.raises(ClientUnauthorizedError):  # no public key left to verify with
        public_key_set({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}]}, "test")
    mixed = {
        "keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}, client_keys.ec.as_dict(private=False)]
    }
    assert [key.kid for key in public_key_set(mixed, "test").keys] == ["ec-1"]
