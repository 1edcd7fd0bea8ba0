"""The app as a whole: its configuration checks and complete launches per client type."""

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import respx
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.routing import Mount

from plugin.errors import ConfigurationError
from smart_app.app import create_app
from smart_app.keys import generate_private_key, jwks_document, load_registration_keys
from smart_app.settings import Settings
from tests.smart_app.conftest import browser, complete_launch, registration
from tests.smart_app.fake_ehr import FakeEhr


def test_plain_http_ehr_is_refused_outside_development(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(
        registration(iss="http://ehr.example.org/fhir"), public_url="https://app.example.org"
    )
    with pytest.raises(ConfigurationError, match=r"ehr\.0\.iss: must be https"):
        create_app(settings)


def test_a_bad_key_file_stops_the_app_at_start(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    (tmp_path / "bad.pem").write_text("nope")
    settings = make_settings(
        registration(client_auth="private_key_jwt", private_key_file=tmp_path / "bad.pem")
    )
    with pytest.raises(ConfigurationError, match=r"bad\.pem"):
        create_app(settings)


async def test_standalone_launch_with_a_confidential_asymmetric_client(
    make_app: Callable[..., FastAPI],
    make_settings: Callable[..., Settings],
    router: respx.MockRouter,
    ehr: FakeEhr,
    tmp_path: Path,
) -> None:
    key = generate_private_key(tmp_path / "app-key.pem")
    settings = make_settings(registration(client_auth="private_key_jwt", private_key_file=key.path))
    ehr.client_auth = "private_key_jwt"
    ehr.client_jwks = jwks_document(load_registration_keys(settings).values())
    async with browser(make_app(settings)) as http:
        callback = await complete_launch(http, ehr, launch=None)
        assert callback.status_code == 303
        page = await http.get("/app")
    assert page.status_code == 200 and "Testperson" in page.text
    header, _claims = ehr.assertions[0]
    assert header["kid"] == key.kid and header["alg"] == "ES384"
    assert "client_id" not in ehr.token_requests[0]


async def test_ehr_launch_with_a_confidential_symmetric_client(
    make_app: Callable[..., FastAPI],
    make_settings: Callable[..., Settings],
    router: respx.MockRouter,
    ehr: FakeEhr,
) -> None:
    ehr.client_auth = "client_secret_basic"
    async with browser(
        make_app(make_settings(registration(client_auth="client_secret_basic")))
    ) as http:
        assert (await complete_launch(http, ehr)).status_code == 303
        assert (await http.get("/app")).status_code == 200


async def test_wrong_client_credentials_are_explained(
    make_app: Callable[..., FastAPI],
    make_settings: Callable[..., Settings],
    router: respx.MockRouter,
    ehr: FakeEhr,
) -> None:
    ehr.client_auth = "client_secret_basic"
    app = make_app(
        make_settings(registration(client_auth="client_secret_basic", client_secret="wrong"))
    )
    async with browser(app) as http:
        response = await complete_launch(http, ehr)
    assert response.status_code == 502
    assert "invalid_client" in response.text and "integration team" in response.text


async def test_the_app_works_mounted_in_a_host_that_skips_its_lifespan(
    make_app: Callable[..., FastAPI], router: respx.MockRouter, ehr: FakeEhr
) -> None:
    host = Starlette(routes=[Mount("/", app=make_app())])
    async with browser(host) as http:  # type: ignore[arg-type]
        assert (await complete_launch(http, ehr)).status_code == 303
        assert (await http.get("/app")).status_code == 200


async def test_lifespan_migrates_at_start_and_closes_at_stop(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    app = create_app(make_settings())
    async with app.router.lifespan_context(app):
        assert (tmp_path / "discogram.sqlite3").exists()
        async with browser(app) as http:
            assert (await http.get("/launch")).status_code == 200
    assert app.state.smart.http.is_closed


async def test_unknown_paths_are_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/nothing-here")).status_code == 404
