from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from smart_app.settings import CdsClientRegistration, Settings


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


def test_a_cds_client_iss_registered_twice_is_refused(tmp_path: Path) -> None:
    jwks = tmp_path / "jwks.json"
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
