"""JWT checks on the CDS client's token; each negative case must be refused (401 at the edge)."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey, OctKey

from plugin.cds_hooks.client_jwt import ClientJwtVerifier
from plugin.cds_hooks.client_keys import ClientKeys
from plugin.cds_hooks.errors import ClientUnauthorizedError
from plugin.errors import ConfigurationError
from smart_app.settings import Settings
from tests.cds_hooks.conftest import (
    CLIENT_ISS,
    PUBLIC_URL,
    URL_CLIENT_ISS,
    URL_CLIENT_JWKS,
    ClientKeysForTests,
    Clock,
    mint,
)

AUD = f"{PUBLIC_URL}/cds-services/discography-candidacy-order-sign"


@pytest.fixture
def verifier(settings: Settings, clock: Clock) -> ClientJwtVerifier:
    keys = ClientKeys(httpx.AsyncClient(), clock, allow_plain_http=False)
    return ClientJwtVerifier(settings.cds_client, keys, clock)


async def refused(verifier: ClientJwtVerifier, token: str, aud: str = AUD) -> str:
    with pytest.raises(ClientUnauthorizedError) as caught:
        await verifier.verify(f"Bearer {token}", aud)
    return caught.value.reason


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


@pytest.mark.parametrize("alg", ["ES384", "RS384"])
async def test_valid_tokens_pass(
    verifier: ClientJwtVerifier, client_keys: ClientKeysForTests, clock: Clock, alg: str
) -> None:
    client = await verifier.verify(f"Bearer {mint(client_keys, AUD, now=clock(), alg=alg)}", AUD)
    assert client.iss == CLIENT_ISS


async def test_aud_may_be_a_list(
    verifier: ClientJwtVerifier, client_keys: ClientKeysForTests, clock: Clock
) -> None:
    token = mint(client_keys, AUD, now=clock(), claims={"aud": ["https://x", AUD]})
    assert (await verifier.verify(f"Bearer {token}", AUD)).iss == CLIENT_ISS


async def test_unknown_iss(
    verifier: ClientJwtVerifier, client_keys: ClientKeysForTests, clock: Clock
) -> None:
    token = mint(client_keys, AUD, now=clock(), iss="https://stranger.example.org")
    assert "iss" in await refused(verifier, token)


async def test_unlisted_jku(
    verifier: ClientJwtVerifier, client_keys: ClientKeysForTests, clock: Clock
) -> None:
    token = mint(
        client_keys,
        AUD,
        now=clock(),
        iss=URL_CLIENT_ISS,
        header={"jku": "https://attacker.example.org/jwks.json"},
    )
    assert "jku" in await refused(verifier, token)


async def test_alg_none(verifier: ClientJwtVerifier, clock: Clock) -> None:
    now = int(clock())
    token = unsigned(
        {"alg": "none", "typ": "JWT", "kid": "ec-1"},
        {"iss": CLIENT_ISS, "aud": AUD, "iat": now, "exp": now + 60, "jti": "n1"},
    )
    assert "alg" in await refused(verifier, token)


async def test_hs256_even_with_a_public_key_as_secret(
    verifier: ClientJwtVerifier, client_keys: ClientKeysForTests, clock: Clock
) -> None:
    # The classic confusion attack: the public key's bytes used as an HMAC secret.
    secret = OctKey.import_key(json.dumps(client_keys.ec.as_dict(private=False)).encode())
    token = mint(client_keys, AUD, now=clock(), alg="HS256", header={"kid": "ec-1"}, key=secret)
    assert "alg" in await refused(verifier, token)


async def test_rs256_is_not_in_the_default_allowlist(
    verifier: ClientJwtVerifier, client_keys: ClientKeysForTests, clock: Clock
) -> None:
    token = mint(client_keys, AUD, now=clock(), alg="RS256")
    assert "alg" in await refused(verifier, token)


async def test_wrong_aud(
    verifier: ClientJwtVerifier, client_keys: ClientKeysForTests, clock: Clock
) -> None:
    token = mint(client_keys, f"{PUBLIC_URL}/cds-services", now=clock())
    assert "aud" in await refused(verifier, token)


async def test_expired(
    verifier: ClientJwtVerifier, client_keys: ClientKeysForTests, clock: Clock
) -> None:
    token = mint(client_keys, AUD, now=clock() - 400)
    assert "expired" in await refused(verifier, token)


async def test_within_leeway_passes(
    verifier: ClientJwtVerifier, client_keys: ClientKeysForTests, clock: Clock
) -> None:
    token = mint(client_keys, AUD, now=clock() - 310)  # expired 10 s ago: clock skew
    assert (await verifier.verify(f"Bearer {token}", AUD)).iss == CLIENT_ISS


async def test_iat_in_the_future_and_too_long_lifetimes(
    verifier: ClientJwtVerifier, client_keys: ClientKeysForTests, clock: Clock
) -> None:
    assert "future" in await refused(verifier, mint(client_keys, AUD, now=clock() + 600))
    long_lived = mint(client_keys, AUD, now=clock(), claims={"exp": int(clock()) + 86400})
    assert "lifetime" in await refused(verifier, long_lived)
    not_yet = mint(client_keys, AUD, now=clock(), claims={"nbf": int(clock()) + 600})
    assert "nbf" in await refused(verifier, not_yet)


async def test_replayed_jti(
    verifier: ClientJwtVerifier, client_keys: ClientKeysForTests, clock: Clock
) -> None:
    token = mint(client_keys, AUD, now=clock())
    await verifier.verify(f"Bearer {token}", AUD)
    assert "replayed" in await refused(verifier, token)


async def test_missing_jti_kid_and_exp(
    verifier: ClientJwtVerifier, client_keys: ClientKeysForTests, clock: Clock
) -> None:
    assert "jti" in await refused(
        verifier, mint(client_keys, AUD, now=clock(), claims={"jti": None})
    )
    assert "kid" in await refused(
        verifier, mint(client_keys, AUD, now=clock(), header={"kid": None})
    )
    assert "exp" in await refused(
        verifier, mint(client_keys, AUD, now=clock(), claims={"exp": None})
    )


async def test_bad_signature(
    verifier: ClientJwtVerifier, client_keys: ClientKeysForTests, clock: Clock
) -> None:
    stranger = ECKey.generate_key("P-384", parameters={"kid": "ec-1"})
    assert "signature" in await refused(verifier, mint(client_keys, AUD, now=clock(), key=stranger))
    token = mint(client_keys, AUD, now=clock())
    head, payload, signature = token.split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged["iss"] = CLIENT_ISS
    forged["aud"] = AUD + "x"
    tampered = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    assert "signature" in await refused(verifier, f"{head}.{tampered}.{signature}", AUD + "x")


async def test_unknown_kid_and_wrong_typ(
    verifier: ClientJwtVerifier, client_keys: ClientKeysForTests, clock: Clock
) -> None:
    assert "kid" in await refused(
        verifier, mint(client_keys, AUD, now=clock(), header={"kid": "nope"})
    )
    assert "typ" in await refused(
        verifier, mint(client_keys, AUD, now=clock(), header={"typ": "at+jwt"})
    )


@pytest.mark.parametrize("header", [None, "Basic abc", "Bearer", "Bearer not.a.jwt", "Bearer ...."])
async def test_missing_or_garbage_authorization(
    verifier: ClientJwtVerifier, header: str | None
) -> None:
    with pytest.raises(ClientUnauthorizedError):
        await verifier.verify(header, AUD)


async def test_tenant_must_match_when_registered(
    settings: Settings, client_keys: ClientKeysForTests, clock: Clock, jwks_file: Any
) -> None:
    from smart_app.settings import CdsClientRegistration

    clients = [CdsClientRegistration(iss=CLIENT_ISS, jwks_file=jwks_file, tenant="hospital-a")]
    verifier = ClientJwtVerifier(
        clients, ClientKeys(httpx.AsyncClient(), clock, allow_plain_http=False), clock
    )
    assert "tenant" in await refused(
        verifier, mint(client_keys, AUD, now=clock(), claims={"tenant": "b"})
    )
    ok = mint(client_keys, AUD, now=clock(), claims={"tenant": "hospital-a"})
    assert (await verifier.verify(f"Bearer {ok}", AUD)).tenant == "hospital-a"


def test_symmetric_algorithms_cannot_be_configured(settings: Settings, clock: Clock) -> None:
    keys = ClientKeys(httpx.AsyncClient(), clock, allow_plain_http=False)
    for algorithms in (["HS256"], ["ES384", "none"], []):
        with pytest.raises(ConfigurationError):
            ClientJwtVerifier(settings.cds_client, keys, clock, algorithms=algorithms)


async def test_rsa_key_signed_es_header_is_refused(
    verifier: ClientJwtVerifier, client_keys: ClientKeysForTests, clock: Clock
) -> None:
    # kid names the RSA key while alg says ES384: the key type must fit the algorithm.
    token = mint(client_keys, AUD, now=clock(), header={"kid": "rsa-1"})
    assert "signature" in await refused(verifier, token)


async def test_url_client_keys_are_fetched_from_its_registered_jwks_url(
    settings: Settings, client_keys: ClientKeysForTests, clock: Clock
) -> None:
    calls = []

    def jwks(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        assert str(request.url) == URL_CLIENT_JWKS
        return httpx.Response(200, json=client_keys.jwks())

    http = httpx.AsyncClient(transport=httpx.MockTransport(jwks))
    verifier = ClientJwtVerifier(
        settings.cds_client, ClientKeys(http, clock, allow_plain_http=False), clock
    )
    token = mint(client_keys, AUD, now=clock(), iss=URL_CLIENT_ISS, header={"jku": URL_CLIENT_JWKS})
    assert (await verifier.verify(f"Bearer {token}", AUD)).iss == URL_CLIENT_ISS
    again = mint(client_keys, AUD, now=clock(), iss=URL_CLIENT_ISS)
    await verifier.verify(f"Bearer {again}", AUD)
    assert len(calls) == 1  # cached


@pytest.mark.parametrize(
    "claims",
    [
        {"iat": float("nan"), "exp": 2_000_000_000 + 10 * 365 * 86400},
        {"exp": float("nan")},
        {"exp": float("inf"), "iat": float("inf")},
        {"exp": float("-inf")},
        {"exp": 10**400},
        {"nbf": float("nan")},
        {"iat": True},
        {"exp": "2000000300"},
    ],
    ids=["iat-nan", "exp-nan", "inf", "exp-minus-inf", "exp-huge", "nbf-nan", "bool", "string"],
)
async def test_numeric_dates_must_be_finite_numbers(
    verifier: ClientJwtVerifier,
    client_keys: ClientKeysForTests,
    clock: Clock,
    claims: dict[str, Any],
) -> None:
    # RFC 7519 NumericDate: NaN passes every comparison unnoticed, and no expiry can be
    # kept for it in the store of seen ids.
    reason = await refused(verifier, mint(client_keys, AUD, now=clock(), claims=claims))
    assert any(name in reason for name in ("exp", "iat", "nbf"))
