"""The sandbox's CDS client JWT passes the app's own verifier (CDS Hooks 2.0 §Trusting CDS
Clients) and its key files are what the service is given."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import httpx
import pytest

from plugin.cds_hooks.client_jwt import ClientJwtVerifier
from plugin.cds_hooks.client_keys import ClientKeys
from plugin.cds_hooks.errors import ClientUnauthorizedError
from plugin.sandbox.cds.signing import JWT_LIFETIME_SECONDS, CdsSigningKey
from smart_app.settings import CdsClientRegistration

ISS = "http://127.0.0.1:8000/fhir"
AUD = "http://127.0.0.1:8000/cds-services/discography-candidacy-order-sign"


@pytest.fixture
def key(tmp_path: Path) -> CdsSigningKey:
    return CdsSigningKey.ensure(tmp_path / "cds-key.pem")


def _verifier(tmp_path: Path, key: CdsSigningKey, now: float) -> ClientJwtVerifier:
    jwks = key.write_public_jwks(tmp_path / "cds-jwks.json")
    registration = CdsClientRegistration(iss=ISS, jwks_file=jwks)
    keys = ClientKeys(httpx.AsyncClient(), lambda: now, allow_plain_http=True)
    return ClientJwtVerifier([registration], keys, lambda: now)


def test_the_private_key_is_p384_kept_0600_and_reused(tmp_path: Path, key: CdsSigningKey) -> None:
    path = tmp_path / "cds-key.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert CdsSigningKey.ensure(path).kid == key.kid  # a second run keeps the same key
    (jwk,) = key.public_jwks()["keys"]
    assert jwk["kty"] == "EC" and jwk["crv"] == "P-384" and jwk["alg"] == "ES384"
    assert "d" not in jwk


async def test_the_app_verifier_accepts_the_jwt(tmp_path: Path, key: CdsSigningKey) -> None:
    now = time.time()
    token = key.client_jwt(ISS, AUD, now)
    verified = await _verifier(tmp_path, key, now).verify(f"Bearer {token}", AUD)
    assert verified.iss == ISS


async def test_claims_are_short_lived_unique_and_without_jku(
    tmp_path: Path, key: CdsSigningKey
) -> None:
    from joserfc import jws

    now = time.time()
    first, second = key.client_jwt(ISS, AUD, now), key.client_jwt(ISS, AUD, now)
    compact = jws.extract_compact(first.encode())
    header, claims = compact.headers(), json.loads(compact.payload)
    assert header["alg"] == "ES384" and header["kid"] == key.kid and "jku" not in header
    assert claims["exp"] - claims["iat"] == JWT_LIFETIME_SECONDS <= 300
    assert claims["aud"] == AUD
    second_claims = json.loads(jws.extract_compact(second.encode()).payload)
    assert claims["jti"] != second_claims["jti"]


async def test_the_verifier_refuses_another_audience_and_a_replay(
    tmp_path: Path, key: CdsSigningKey
) -> None:
    now = time.time()
    verifier = _verifier(tmp_path, key, now)
    token = key.client_jwt(ISS, AUD, now)
    with pytest.raises(ClientUnauthorizedError):
        await verifier.verify(f"Bearer {token}", "http://127.0.0.1:8000/cds-services")
    await verifier.verify(f"Bearer {token}", AUD)
    with pytest.raises(ClientUnauthorizedError):
        await verifier.verify(f"Bearer {token}", AUD)
