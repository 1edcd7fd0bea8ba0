"""One origin: the sandbox routes first, the hosted app below them, lifespans run together."""

from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.responses import PlainTextResponse

from plugin.sandbox.app import create_sandbox_with_app, sandbox_of
from plugin.sandbox.asgi import lifespan
from plugin.sandbox.config import SandboxConfig
from tests.sandbox.conftest import BASE, SandboxFactory


def hosted_app(events: list[str], transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    @asynccontextmanager
    async def run(_: FastAPI) -> Any:
        events.append("app started")
        yield
        events.append("app stopped")

    app = FastAPI(lifespan=run)

    @app.get("/launch")
    async def launch() -> PlainTextResponse:
        return PlainTextResponse("app launch page")

    @app.get("/fhir-via-transport")
    async def call_sandbox() -> PlainTextResponse:
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
            response = await http.get("/fhir/metadata")
        return PlainTextResponse(response.json()["resourceType"])

    return app


async def test_the_hosted_app_is_served_below_the_sandbox_routes(
    make_sandbox: SandboxFactory,
) -> None:
    sandbox = await make_sandbox(app=hosted_app([]))
    assert (await sandbox.http.get("/launch")).text == "app launch page"
    assert (await sandbox.http.get("/fhir/metadata")).json()[
        "resourceType"
    ] == "CapabilityStatement"
    # /fhir paths never fall through to the app.
    assert (await sandbox.http.get("/fhir/Nothing/here/at/all")).status_code == 404


async def test_the_hosted_app_calls_the_sandbox_in_process(signing_key_file: Any) -> None:
    events: list[str] = []
    app = create_sandbox_with_app(
        SandboxConfig(signing_key_file=signing_key_file),
        lambda transport: hosted_app(events, transport),
    )
    async with lifespan(app):
        assert events == ["app started"]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
            response = await http.get("/fhir-via-transport")
            assert response.text == "CapabilityStatement"
    assert events == ["app started", "app stopped"]
    assert sandbox_of(app).store is not None
