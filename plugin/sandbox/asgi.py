"""ASGI plumbing for hosting the SMART app inside the sandbox.

`DeferredApp` breaks the cycle "the sandbox serves the SMART app, the SMART app calls the
sandbox": the app's HTTP transport is built on a `DeferredApp`, pointed at the sandbox once
the sandbox exists. `lifespan` runs an ASGI app's startup and shutdown, which Starlette does
not do for a mounted app (and httpx's ASGITransport does for no app).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DeferredApp", "lifespan"]


class DeferredApp:
    """An ASGI app that forwards to `target`, which is set after construction."""

    def __init__(self) -> None:
        self.target: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.target is None:
            raise RuntimeError("DeferredApp called before its target was set")
        await self.target(scope, receive, send)


@asynccontextmanager
async def lifespan(app: ASGIApp) -> AsyncIterator[dict[str, Any]]:
    """Start `app` (ASGI lifespan protocol), yield its lifespan state, and shut it down.

    An app that does not speak the lifespan protocol (raises or returns at once) is simply
    run without it, as ASGI servers do.
    """
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    started: asyncio.Future[None] = loop.create_future()
    stopped: asyncio.Future[None] = loop.create_future()
    state: dict[str, Any] = {}

    async def receive() -> Message:
        return await inbox.get()

    async def send(message: Message) -> None:
        kind = message["type"]
        if kind == "lifespan.startup.complete":
            started.set_result(None)
        elif kind == "lifespan.startup.failed":
            started.set_exception(RuntimeError(f"app startup failed: {message.get('message')}"))
        elif kind == "lifespan.shutdown.complete":
            stopped.set_result(None)
        elif kind == "lifespan.shutdown.failed":
            stopped.set_exception(RuntimeError(f"app shutdown failed: {message.get('message')}"))

    scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
    scope["state"] = state

    async def run_app() -> None:
        await app(scope, receive, send)

    task: asyncio.Task[None] = asyncio.create_task(run_app())
    await inbox.put({"type": "lifespan.startup"})
    await asyncio.wait({started, task}, return_when=asyncio.FIRST_COMPLETED)
    if not started.done():
        # The app returned or raised instead of answering: no lifespan support.
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not warn about it
        yield state
        return
    if started.exception() is not None:
        task.cancel()
        started.result()
    try:
        yield state
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await asyncio.wait({stopped, task}, return_when=asyncio.FIRST_COMPLETED)
        if stopped.done():
            stopped.result()
        await task
