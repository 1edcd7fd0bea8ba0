"""The CDS Hooks service is served by the app itself (`discogram serve` / `sandbox`)."""

from __future__ import annotations

from pathlib import Path

import httpx

from plugin.cli.sandbox import build_sandbox, prepare_sandbox
from plugin.sandbox.asgi import lifespan


async def test_discovery_is_served_and_refuses_an_unsigned_call(tmp_path: Path) -> None:
    app = build_sandbox(prepare_sandbox(tmp_path, 8000))
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
            unsigned = await http.get("/cds-services")
            preflight = await http.options(
                "/cds-services",
                headers={
                    "Origin": "https://sandbox.cds-hooks.org",
                    "Access-Control-Request-Method": "GET",
                },
            )
    assert unsigned.status_code == 401
    assert preflight.status_code == 204
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
