import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from joserfc import jwt
from joserfc.jwk import KeySet

from smart_app.client_auth import ASSERTION_LIFETIME_SECONDS, oauth_client
from smart_app.keys import ClientKey, RegistrationKeys, generate_private_key, jwks_document
from tests.smart_app.conftest import FakeClock, registration
from tests.smart_app.fake_ehr import CLIENT_ID, CLIENT_SECRET, TOKEN_URL


@pytest.fixture(scope="session")
def rsa_key(tmp_path_factory: pytest.TempPathFactory) -> ClientKey:
    return generate_private_key(tmp_path_factory.mktemp("keys") / "rsa.pem", kind="RSA")


def token_route(router: respx.MockRouter) -> respx.Route:
    return router.post(TOKEN_URL).mock(
        return_value=httpx.Response(200, json={"access_token": "a", "token_type": "Bearer"})
    )


async def request_token(client: Any) -> None:
    async with client:
        await client.fetch_token(
            TOKEN_URL, grant_type="authorization_code", code="c", code_verifier="v" * 43
        )


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def decode_segment(segment: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


@pytest.mark.parametrize("kind", ["EC", "RSA"])
async def test_private_key_jwt_assertion_shape(
    kind: str, tmp_path: Path, rsa_key: ClientKey, clock: FakeClock
) -> None:
    key = rsa_key if kind == "RSA" else generate_private_key(tmp_path / "ec.pem")
    reg = registration(client_auth="private_key_jwt", private_key_file=key.path)
    with respx.mock(assert_all_mocked=True) as router:
        route = token_route(router)
        for _ in range(2):
            client = oauth_client(
                reg,
                redirect_uri="https://app/callback",
                signing_key=key,
                clock=clock,
                transport=None,
            )
            await request_token(client)
    bodies = [form(call.request) for call in route.calls]
    assert all(
        b["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        for b in bodies
    )
    assert all("client_id" not in b and "client_secret" not in b for b in bodies)
    assert all("authorization" not in call.request.headers for call in route.calls)
    keys = KeySet.import_key_set(jwks_document([RegistrationKeys(key, None)]))
    jtis = set()
    for body in bodies:
        assertion = body["client_assertion"]
        header = decode_segment(assertion.split(".")[0])
        assert header == {"alg": key.alg, "kid": key.kid, "typ": "JWT"}
        assert header["alg"] == ("RS384" if kind == "RSA" else "ES384")
        claims = jwt.decode(assertion, keys, algorithms=[key.alg]).claims  # signature verifies
        assert claims["iss"] == claims["sub"] == CLIENT_ID
        assert claims["aud"] == TOKEN_URL
        assert claims["iat"] == int(clock())
        assert claims["exp"] - claims["iat"] == ASSERTION_LIFETIME_SECONDS <= 300
        assert len(claims["jti"]) >= 32
        jtis.add(claims["jti"])
    assert len(jtis) == 2  # never reused


async def test_public_client_sends_client_id_in_the_body_and_no_secret(clock: FakeClock) -> None:
    with respx.mock(assert_all_mocked=True) as router:
        route = token_route(router)
        client = oauth_client(
            registration(),
            redirect_uri="https://app/callback",
            signing_key=None,
            clock=clock,
            transport=None,
        )
        await request_token(client)
    body = form(route.calls[0].request)
    assert body["client_id"] == CLIENT_ID
    assert body["grant_type"] == "authorization_code"
    assert body["redirect_uri"] == "https://app/callback"
    assert body["code_verifier"] == "v" * 43
    assert "authorization" not in route.calls[0].request.headers
    assert "client_assertion" not in body


async def test_client_secret_basic_uses_http_basic_only(clock: FakeClock) -> None:
    with respx.mock(assert_all_mocked=True) as router:
        route = token_route(router)
        client = oauth_client(
            registration(client_auth="client_secret_basic"),
            redirect_uri="https://app/callback",
            signing_key=None,
            clock=clock,
            transport=None,
        )
        await request_token(client)
    request = route.calls[0].request
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    body = form(request)
    assert "client_secret" not in body and "client_id" not in body
