from datetime import UTC, datetime

import pytest
from joserfc.jwk import ECKey

from plugin.sandbox.auth.client_keys import ClientKeyError, ClientKeys
from plugin.sandbox.config import ClientAuthMethod, SandboxClient

KEY = ECKey.generate_key("P-384")


def client(jwks: dict[str, object]) -> SandboxClient:
    return SandboxClient(
        client_id="c",
        auth_method=ClientAuthMethod.PRIVATE_KEY_JWT,
        redirect_uris=["http://127.0.0.1:9000/cb"],
        jwks=jwks,
    )


def keys() -> ClientKeys:
    def no_app() -> object:
        raise AssertionError("not fetched")

    return ClientKeys("http://127.0.0.1:8000", no_app, lambda: datetime(2026, 1, 1, tzinfo=UTC))  # type: ignore[arg-type]


def test_a_stored_jwks_gives_the_public_keys() -> None:
    public = {**KEY.as_dict(private=False), "kid": "k1"}
    key_set = keys().key_set(client({"keys": [public]}))
    assert key_set.get_by_kid("k1") is not None


def test_a_jwks_with_private_key_material_is_refused() -> None:
    private = {**KEY.as_dict(private=True), "kid": "k1"}
    with pytest.raises(ClientKeyError, match="private key material"):
        keys().key_set(client({"keys": [private]}))


def test_a_document_that_is_not_a_jwks_is_refused() -> None:
    with pytest.raises(ClientKeyError, match="not a JWK Set"):
        keys().key_set(client({"kty": "EC"}))
