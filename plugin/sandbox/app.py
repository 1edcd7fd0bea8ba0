"""The sandbox EHR as one FastAPI app on one origin:

- ``/fhir`` — the FHIR R4 server (its base is the SMART `iss`), with
  ``/fhir/.well-known/smart-configuration``;
- ``/auth/...`` — the SMART authorization server (authorize, token, JWKS, OpenID discovery);
- ``/ehr/...`` — the EHR pages;
- ``/`` — the SMART app, when one is given (its /launch, /callback, /app…, JWKS…).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp

from plugin.sandbox.asgi import DeferredApp, lifespan
from plugin.sandbox.auth.routes import auth_router
from plugin.sandbox.clock import Clock, system_clock
from plugin.sandbox.config import SandboxConfig
from plugin.sandbox.ehr.cds_routes import cds_order_router
from plugin.sandbox.ehr.routes import ehr_router
from plugin.sandbox.fhir.routes import fhir_router
from plugin.sandbox.instance import SandboxEhr

__all__ = ["create_sandbox_app", "create_sandbox_with_app", "sandbox_of"]


def create_sandbox_app(
    config: SandboxConfig,
    *,
    app: ASGIApp | None = None,
    clock: Clock = system_clock,
) -> FastAPI:
    """The sandbox EHR, hosting `app` (the SMART app) at ``/`` when given.

    The sandbox starts on first use, so it also works driven by httpx's ASGITransport without
    lifespan events; under a server (or `plugin.sandbox.asgi.lifespan`) the hosted app's own
    startup and shutdown run too.
    """
    sandbox = SandboxEhr(config, clock=clock)

    @asynccontextmanager
    async def run(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        await sandbox.ready()
        try:
            if app is None:
                yield {}
            else:
                async with lifespan(app) as hosted_state:
                    yield hosted_state  # requests to the hosted app see its lifespan state
        finally:
            await sandbox.close()

    fastapi = FastAPI(
        title="Sandbox EHR",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=run,
    )
    fastapi.state.sandbox = sandbox
    sandbox.asgi_app = fastapi
    # Order matters: discovery under /fhir/.well-known precedes the FHIR type routes.
    fastapi.include_router(auth_router(sandbox))
    fastapi.include_router(fhir_router(sandbox))
    fastapi.include_router(ehr_router(sandbox))
    fastapi.include_router(cds_order_router(sandbox))
    if app is not None:
        fastapi.mount("/", app)
        # The EHR's CDS Hooks calls reach the hosted app's /cds-services without the network.
        sandbox.cds_transport = httpx.ASGITransport(app=fastapi)
    else:

        @fastapi.get("/", include_in_schema=False)
        async def home() -> Response:
            return RedirectResponse("/ehr", status_code=303)

    return fastapi


def create_sandbox_with_app(
    config: SandboxConfig,
    make_app: Callable[[httpx.AsyncBaseTransport], ASGIApp],
    *,
    clock: Clock = system_clock,
) -> FastAPI:
    """The sandbox hosting the app `make_app` builds, the app's outgoing HTTP routed to the
    sandbox in-process (``make_app(transport)``, e.g. ``lambda t: create_app(settings,
    transport=t)``)."""
    deferred = DeferredApp()
    hosted = make_app(httpx.ASGITransport(app=deferred))
    sandbox_app = create_sandbox_app(config, app=hosted, clock=clock)
    deferred.target = sandbox_app
    return sandbox_app


def sandbox_of(app: FastAPI) -> SandboxEhr:
    """The running sandbox behind an app made by `create_sandbox_app` (tests drive it:
    clock, behaviour, tokens)."""
    sandbox: SandboxEhr = app.state.sandbox
    return sandbox
