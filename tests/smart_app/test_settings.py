from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from joserfc.jwk import ECKey
from pydantic import ValidationError

from smart_app.settings import CdsClientRegistration, EhrRegistration, Settings

EHR = {"name": "E", "iss": "https://ehr.example.org/fhir", "client_id": "app"}


@pytest.fixture
def jwks(tmp_path: Path) -> Path:
    """A CDS client's JWK Set file: one EC public key."""
    key = ECKey.generate_key("P-384", parameters={"kid": "k1"})
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [key.as_dict(private=False)]}), encoding="utf-8")
    return path


def only_error(caught: pytest.ExceptionInfo[ValidationError]) -> tuple[str, str]:
    (error,) = caught.value.errors()
    return ".".join(str(part) for part in error["loc"]), error["msg"]


@pytest.mark.parametrize(
    "url",
    [
        "https://discogram.hospital.example",
        "http://127.0.0.1:8000",
        "http://127.0.0.2:8000",
        "http://localhost:8000",
        "http://[::1]:8000",
    ],
)
def test_public_url_is_https_or_loopback(url: str) -> None:
    assert Settings(public_url=url).public_url == url


@pytest.mark.parametrize(
    "url",
    ["http://discogram.hospital.example", "http://10.0.0.5:8000", "http://0.0.0.0:8000"],
)
def test_plain_http_public_url_outside_loopback_is_refused(url: str) -> None:
    # CDS Hooks 2.0 rows 2 and 168: TLS outside loopback development.
    with pytest.raises(ValidationError, match="public_url") as caught:
        Settings(public_url=url)
    assert "must use https outside the loopback host" in str(caught.value)


def test_cookies_are_secure_except_on_plain_http_loopback() -> None:
    assert Settings(public_url="https://discogram.hospital.example").cookie_secure
    assert not Settings(public_url="http://127.0.0.1:8000").cookie_secure
    assert not Settings(public_url="http://[::1]:8000").cookie_secure


def test_a_cds_client_iss_registered_twice_is_refused(jwks: Path) -> None:
    registrations = [
        CdsClientRegistration(iss="https://ehr-a.example", jwks_file=jwks, tenant="hospital-a"),
        CdsClientRegistration(iss="https://ehr-a.example", jwks_file=jwks, tenant="hospital-b"),
    ]
    with pytest.raises(
        ValidationError, match=r"cds_client iss 'https://ehr-a\.example' is registered twice"
    ):
        Settings(cds_client=registrations)
    assert len(Settings(cds_client=registrations[:1]).cds_client) == 1


def test_the_site_timezone_is_an_iana_name() -> None:
    assert Settings().zone == ZoneInfo("UTC")
    assert Settings(timezone="America/Chicago").zone == ZoneInfo("America/Chicago")
    with pytest.raises(ValidationError, match="not an IANA time zone name"):
        Settings(timezone="Central Time")
    with pytest.raises(ValidationError, match="not an IANA time zone name"):
        Settings(timezone="../../etc/passwd")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a database URL"),
        ("mysql://x@y/z", "must be SQLite or PostgreSQL, not 'mysql'"),
        ("sqlite:///var/x.sqlite3", "needs an async driver"),
        ("postgresql://discogram:pw@db/discogram", "needs an async driver"),
    ],
)
def test_the_database_url_is_checked_when_read(url: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(database_url=url)
    where, text = only_error(caught)
    assert where == "database_url" and message in text
    assert "pw" not in text  # the URL may carry a password: never echoed


def test_the_database_url_accepts_the_async_sqlite_and_postgresql_drivers() -> None:
    for url in ("sqlite+aiosqlite:///var/x.sqlite3", "postgresql+asyncpg://u@db/discogram"):
        assert Settings(database_url=url).database_url == url


def test_a_data_dir_that_is_not_a_path_is_a_field_error_not_a_crash() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(data_dir=5)
    assert only_error(caught)[0] == "data_dir"
    assert (
        Settings(data_dir="/srv/d").database_url == "sqlite+aiosqlite:////srv/d/discogram.sqlite3"
    )


def test_a_secret_key_file_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(secret_key_file=tmp_path)
    where, text = only_error(caught)
    assert where == "secret_key_file" and "is a folder" in text


@pytest.mark.parametrize(
    ("jwks_url", "public_url", "message"),
    [
        ("not a url", "http://127.0.0.1:8000", "must be an absolute https URL"),
        ("https://ehr.example.org/jwks#k", "http://127.0.0.1:8000", "must not have a fragment"),
        ("http://ehr.example.org/jwks", "http://127.0.0.1:8000", "must use https"),
        # Plain http to a loopback host only while we run on plain http there ourselves.
        ("http://127.0.0.1:9000/jwks", "https://app.example.org", "must use https"),
    ],
)
def test_a_cds_client_jwks_url_is_checked_at_startup(
    jwks_url: str, public_url: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=r"cds_client\.0\.jwks_url") as caught:
        Settings(
            public_url=public_url,
            cds_client=[{"iss": "https://ehr.example.org", "jwks_url": jwks_url}],
        )
    assert message in str(caught.value)


def test_a_loopback_jwks_url_may_be_plain_http_in_development() -> None:
    client = {"iss": "http://127.0.0.1:9000", "jwks_url": "http://127.0.0.1:9000/jwks"}
    assert Settings(public_url="http://127.0.0.1:8000", cds_client=[client]).cds_client


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (None, "cannot be read (No such file or directory)"),
        ("-----BEGIN PUBLIC KEY-----", "is not JSON"),
        ({"kty": "EC"}, "is not a JWK Set"),
        ({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}, "holds private key material"),
        ({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AA"}]}, "holds no RSA or EC public key"),
        ({"keys": [{"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}]}, "unreadable key"),
    ],
)
def test_a_cds_client_jwks_file_must_be_a_public_jwk_set(
    tmp_path: Path, document: Any, message: str
) -> None:
    path = tmp_path / "jwks.json"
    if isinstance(document, str):
        path.write_text(document)
    elif document is not None:
        write_json(path, document)
    with pytest.raises(ValidationError) as caught:
        CdsClientRegistration(iss="https://ehr.example.org", jwks_file=path)
    where, text = only_error(caught)
    assert where == "jwks_file" and message in text


def test_a_jwks_file_with_a_private_key_is_refused(tmp_path: Path) -> None:
    key = ECKey.generate_key("P-384", parameters={"kid": "k1"})
    path = write_json(tmp_path / "jwks.json", {"keys": [key.as_dict(private=True)]})
    with pytest.raises(ValidationError, match="holds private key material"):
        CdsClientRegistration(iss="https://ehr.example.org", jwks_file=path)


def test_a_valid_jwks_file_is_accepted(jwks: Path) -> None:
    assert CdsClientRegistration(iss="https://ehr.example.org", jwks_file=jwks).jwks_file == jwks


def test_document_pdf_must_be_a_boolean_not_a_string() -> None:
    with pytest.raises(ValidationError) as caught:
        EhrRegistration(**EHR, document_pdf="yes")
    assert only_error(caught)[0] == "document_pdf"
    assert EhrRegistration(**EHR, document_pdf=True).document_pdf is True


@pytest.mark.parametrize("auth", ["public", "private_key_jwt"])
def test_a_client_secret_is_refused_unless_the_client_uses_it(auth: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        EhrRegistration(
            **EHR,
            client_auth=auth,
            client_secret="s3cret",
            private_key_file=tmp_path / "k.pem",
        )
    text = only_error(caught)[1]
    assert "client_secret is used only with client_auth client_secret_basic" in text
    assert f"(client_auth is {auth})" in text and "s3cret" not in text


@pytest.mark.parametrize("scope", ["", "patient/*.rs launch", 'a"b'])
def test_each_scope_is_one_oauth_scope_token(scope: str) -> None:
    with pytest.raises(ValidationError) as caught:
        EhrRegistration(**EHR, scopes=["launch", scope])
    where, text = only_error(caught)
    assert where == "scopes" and "one non-empty OAuth scope token" in text
    scopes = ["launch", "openid", "fhirUser", "patient/*.rs"]
    assert EhrRegistration(**EHR, scopes=scopes).scopes == scopes


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
        "sqlite+aiosqlite:///file::memory:?cache=shared&uri=true",
        "sqlite+aiosqlite:///file:app?mode=memory&uri=true",
    ],
)
def test_an_in_memory_sqlite_database_is_refused(url: str) -> None:
    # The outbox, drafts and used CDS token ids must outlive a restart.
    with pytest.raises(ValidationError) as caught:
        Settings(database_url=url)
    where, message = only_error(caught)
    assert where == "database_url"
    assert "in-memory SQLite" in message and "lost at every restart" in message


@pytest.mark.parametrize(
    "url", ["https://x.example/discography", "https://x.example/discography/", "http://[::1]/a"]
)
def test_a_public_url_with_a_path_is_refused(url: str) -> None:
    # The pages address /launch and /app/static/… from the host's root.
    with pytest.raises(ValidationError) as caught:
        Settings(public_url=url)
    where, message = only_error(caught)
    assert where == "public_url"
    assert "serve the app at the root of its own host name" in message


def test_a_public_url_with_only_a_trailing_slash_is_its_root() -> None:
    assert Settings(public_url="https://x.example/").public_url == "https://x.example"


def test_plain_http_frame_origins_are_refused_in_production_each_named() -> None:
    ehrs = [
        {**EHR, "frame_origins": ["https://ok.example", "http://a.example"]},
        {**EHR, "iss": "https://b/fhir", "frame_origins": ["http://b.example"]},
    ]
    with pytest.raises(ValidationError) as caught:
        Settings(public_url="https://app.example", ehr=ehrs)
    _, message = only_error(caught)
    lines = message.removeprefix("Value error, ").splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "ehr.0.frame_origins.1",
        "ehr.1.frame_origins.0",
    ]
    assert all("must use https" in line for line in lines)


def test_plain_http_frame_origins_are_allowed_in_development_on_localhost() -> None:
    ehr = {**EHR, "frame_origins": ["http://localhost:9000"]}
    settings = Settings(public_url="http://127.0.0.1:8000", ehr=[ehr])
    assert settings.ehr[0].frame_origins == ["http://localhost:9000"]
