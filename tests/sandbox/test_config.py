import pytest
from pydantic import ValidationError

from plugin.sandbox.config import ClientAuthMethod, SandboxClient, SandboxConfig

REDIRECT = ["http://127.0.0.1:9000/callback"]


def test_urls_derive_from_the_origin() -> None:
    config = SandboxConfig(base_url="http://localhost:8123/")
    assert config.base_url == "http://localhost:8123"
    assert config.fhir_base == "http://localhost:8123/fhir"
    assert config.issuer == "http://localhost:8123/auth"
    assert config.token_url == "http://localhost:8123/auth/token"


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("http://sandbox.example:8000", "loopback"),
        ("http://127.0.0.1:8000/ehr", "no path"),
        ("ftp://127.0.0.1", "absolute http"),
    ],
)
def test_bad_origins_are_refused(base_url: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SandboxConfig(base_url=base_url)


def test_https_origins_anywhere_are_fine() -> None:
    assert (
        SandboxConfig(base_url="https://sandbox.example").fhir_base
        == "https://sandbox.example/fhir"
    )


def test_client_credentials_must_fit_the_method() -> None:
    with pytest.raises(ValidationError, match="needs client_secret"):
        SandboxClient(
            client_id="a", auth_method=ClientAuthMethod.CLIENT_SECRET_BASIC, redirect_uris=REDIRECT
        )
    with pytest.raises(ValidationError, match="exactly one of jwks_url or jwks"):
        SandboxClient(
            client_id="a", auth_method=ClientAuthMethod.PRIVATE_KEY_JWT, redirect_uris=REDIRECT
        )
    with pytest.raises(ValidationError, match="absolute http"):
        SandboxClient(client_id="a", redirect_uris=["/callback"])


def test_client_ids_are_unique() -> None:
    client = SandboxClient(client_id="a", redirect_uris=REDIRECT)
    with pytest.raises(ValidationError, match="registered twice"):
        SandboxConfig(clients=[client, client])
    assert SandboxConfig(clients=[client]).client("a") == client
