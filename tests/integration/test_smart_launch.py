"""The complete SMART launch against the sandbox EHR, in-process: EHR launch with the
sandbox's own private_key_jwt registration, and a standalone launch with a confidential
asymmetric (RS384) client. Every request goes through the real app and the real sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from plugin.cli.sandbox import SANDBOX_CLIENT_ID, build_sandbox, prepare_sandbox
from plugin.sandbox.app import sandbox_of
from plugin.sandbox.asgi import lifespan
from plugin.sandbox.config import ClientAuthMethod, SandboxClient
from plugin.sandbox.instance import SandboxEhr
from smart_app.keys import generate_private_key
from smart_app.settings import ClientAuth, EhrRegistration

pytestmark = pytest.mark.integration

PORT = 8000
BASE = f"http://127.0.0.1:{PORT}"


@dataclass
class Running:
    app: FastAPI
    http: httpx.AsyncClient
    iss: str


async def _run(setup_dir: Path, *, standalone_rsa_client: bool = False) -> AsyncIterator[Running]:
    setup = prepare_sandbox(setup_dir, PORT)
    config = setup.config.model_copy(update={"auto_consent": True})
    settings = setup.settings
    if standalone_rsa_client:
        # A second registration: confidential asymmetric with an RSA key (RS384), standalone.
        key = setup_dir / "standalone-rsa.pem"
        generate_private_key(key, kind="RSA")
        client = SandboxClient(
            client_id="standalone-rsa",
            name="Discography plugin (standalone)",
            auth_method=ClientAuthMethod.PRIVATE_KEY_JWT,
            redirect_uris=[f"{BASE}/callback"],
            jwks_url=f"{BASE}/.well-known/jwks.json",
        )
        config = config.model_copy(
            update={"clients": [client], "standalone_patient": "cervical-candidate"}
        )
        registration = EhrRegistration(
            name="Sandbox EHR (standalone)",
            iss=config.fhir_base,
            client_id="standalone-rsa",
            client_auth=ClientAuth.PRIVATE_KEY_JWT,
            private_key_file=key,
        )
        settings = settings.model_copy(update={"ehr": [registration]})
    app = build_sandbox(type(setup)(config, settings))
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
            yield Running(app, http, config.fhir_base)


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Running]:
    async for running in _run(tmp_path):
        yield running


@pytest.fixture
async def standalone_sandbox(tmp_path: Path) -> AsyncIterator[Running]:
    async for running in _run(tmp_path, standalone_rsa_client=True):
        yield running


async def _follow(
    http: httpx.AsyncClient, response: httpx.Response, limit: int = 10
) -> httpx.Response:
    """Follow redirects by hand, checking each hop stays on the sandbox's own origin."""
    for _ in range(limit):
        if response.status_code not in (302, 303, 307):
            return response
        location = response.headers["location"]
        assert location.startswith((BASE, "/")), f"redirect left the sandbox: {location}"
        response = await http.get(location)
    raise AssertionError("too many redirects")


async def test_ehr_launch_reaches_the_patient_page(sandbox: Running) -> None:
    app = sandbox_of_app(sandbox)
    context = await app.launch(SANDBOX_CLIENT_ID, "lumbar-candidate", "spine-proceduralist")

    launch = await sandbox.http.get("/launch", params={"iss": sandbox.iss, "launch": context.id})
    assert launch.status_code in (302, 303)
    authorize = urlsplit(launch.headers["location"])
    query = parse_qs(authorize.query)
    assert query["aud"] == [sandbox.iss]
    assert query["launch"] == [context.id]
    assert query["code_challenge_method"] == ["S256"]
    assert "launch" in query["scope"][0].split()

    page = await _follow(sandbox.http, launch)
    assert page.status_code == 200
    assert str(page.url).endswith("/app/candidacy")
    # The banner names the launched patient; the user is named from fhirUser.
    assert "Lumbar-Candidate" in page.text
    assert "Testdoctor" in page.text
    # Tokens never reach the page or the cookies.
    for cookie in sandbox.http.cookies.jar:
        assert "." not in (cookie.value or "")  # no JWTs / dotted tokens in cookies
    assert "access_token" not in page.text


async def test_standalone_launch_with_a_confidential_asymmetric_rsa_client(
    standalone_sandbox: Running,
) -> None:
    launch = await standalone_sandbox.http.get("/launch", params={"iss": standalone_sandbox.iss})
    assert launch.status_code in (302, 303)
    query = parse_qs(urlsplit(launch.headers["location"]).query)
    assert "launch" not in query
    assert "launch/patient" in query["scope"][0].split()

    page = await _follow(standalone_sandbox.http, launch)
    assert page.status_code == 200
    assert "Cervical-Candidate" in page.text
    # The sandbox verified an RS384 client assertion against the app's published RSA key.
    keys = (await standalone_sandbox.http.get("/.well-known/jwks.json")).json()["keys"]
    assert [(k["kty"], k["alg"]) for k in keys] == [("RSA", "RS384")]


def sandbox_of_app(running: Running) -> SandboxEhr:
    return sandbox_of(running.app)
