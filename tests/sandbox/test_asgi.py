from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from plugin.sandbox.asgi import DeferredApp, lifespan


async def test_a_deferred_app_forwards_once_pointed() -> None:
    deferred = DeferredApp()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=deferred), base_url="http://x"
    ) as http:
        with pytest.raises(RuntimeError, match="before its target"):
            await http.get("/")
        deferred.target = Starlette(routes=[Route("/", lambda _: PlainTextResponse("hi"))])
        assert (await http.get("/")).text == "hi"


async def test_lifespan_runs_startup_and_shutdown_and_yields_state() -> None:
    events: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                events.append("up")
                scope["state"]["ready"] = True
                await send({"type": "lifespan.startup.complete"})
            else:
                events.append("down")
                await send({"type": "lifespan.shutdown.complete"})
                return

    async with lifespan(app) as state:
        assert events == ["up"] and state == {"ready": True}
    assert events == ["up", "down"]


async def test_an_app_without_lifespan_support_still_runs() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("no lifespan here")

    async with lifespan(app) as state:
        assert state == {}


async def test_a_failed_startup_is_raised() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    with pytest.raises(RuntimeError, match="no database"):
        async with lifespan(app):
            pass
