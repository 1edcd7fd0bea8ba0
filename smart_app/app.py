"""The SMART app as a FastAPI application, built from settings by `create_app` (nothing is
configured at import time)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from plugin.cds_hooks.router import cds_router
from smart_app.access_log import AccessLogMiddleware
from smart_app.clock import Clock, system_clock
from smart_app.errors import SmartError
from smart_app.fhir_errors import FhirError
from smart_app.library_logs import quiet_library_logs
from smart_app.outbox import build_outbox
from smart_app.pages import STATIC_DIR, error_page, page_environment
from smart_app.routes import router
from smart_app.security import SecurityHeadersMiddleware, frame_ancestor_origins
from smart_app.services import build_services
from smart_app.settings import Settings
from smart_app.windows import WindowMiddleware
from smart_app.workflow import build_workflow_services, workflow_router

__all__ = ["create_app"]


def create_app(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock = system_clock,
) -> FastAPI:
    """The app. `transport` routes its outgoing HTTP (tests, the in-process sandbox); `clock`
    is injectable for tests. Raises ConfigurationError for unusable keys or registrations."""
    services = build_services(settings, transport=transport, clock=clock)
    outbox = build_outbox(services)
    quiet_library_logs(unless_configured=True)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await services.database.ready()
        async with outbox.running():  # the worker that writes signed reports to the chart
            yield
        await services.aclose()

    app = FastAPI(
        title="Discography plugin",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.smart = services
    app.state.pages = page_environment()
    app.state.outbox = outbox
    app.state.workflow = build_workflow_services(services, outbox)
    app.include_router(router)
    app.include_router(workflow_router)
    # The CDS Hooks service lives beside the app, under /cds-services (its own JWT auth).
    app.include_router(cds_router(settings, transport=transport, clock=clock))
    app.mount("/app/static", StaticFiles(directory=STATIC_DIR), name="smart-static")
    app.add_exception_handler(SmartError, error_page)
    app.add_exception_handler(FhirError, error_page)
    app.add_middleware(WindowMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, frame_ancestors=frame_ancestor_origins(settings))
    app.add_middleware(AccessLogMiddleware)
    return app
