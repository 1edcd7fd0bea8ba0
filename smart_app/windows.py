"""App windows: each launch opens its own window with its own session, and several live side by
side in one browser (an EHR that keeps several patients open shares one cookie store between
them).

A window is named by a random handle (128 bits, URL-safe; not a secret, never patient data)
that prefixes every address of its pages: ``/w/<handle>/app/…``. `WindowMiddleware` moves that
prefix into the request's ``root_path``, so every link, form action, script fetch and redirect
the app builds from ``root_path`` stays in its window without knowing about windows. The
handle only says which of the browser's session cookies to use: without its cookie it is
nothing.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "RequestWindow",
    "WindowMiddleware",
    "new_window_handle",
    "request_window",
    "window_root",
]

_SCOPE_KEY = "discogram.window"
# The handle then a slash: `/w/<handle>` alone is no page of the app.
_WINDOW_PATH = re.compile(r"/w/([A-Za-z0-9_-]{22})(?=/)")


def new_window_handle() -> str:
    return secrets.token_urlsafe(16)  # 128 random bits, 22 characters


def window_root(handle: str) -> str:
    """The path prefix of a window's pages."""
    return f"/w/{handle}"


@dataclass
class RequestWindow:
    """The window a request came from, and what its response must do to the cookies."""

    handle: str | None  # None: an address without a window (an old link, the launch)
    app_root: str  # the app's own root path, without the window
    #: the window whose cookie held the session found (None: a cookie of before handles)
    session_handle: str | None = None
    set_cookies: list[str] = field(default_factory=list)  # Set-Cookie values to add


def request_window(connection: HTTPConnection) -> RequestWindow:
    window = connection.scope.get(_SCOPE_KEY)
    if not isinstance(window, RequestWindow):
        # Outside WindowMiddleware (a bare router in a test): no handle, no cookie changes.
        window = RequestWindow(None, connection.scope.get("root_path", ""))
        connection.scope[_SCOPE_KEY] = window
    return window


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    # ASGI: `path` includes `root_path` (the app mounted under a prefix).
    return path[len(root) :] if root and path.startswith(f"{root}/") else path


class WindowMiddleware:
    """Reads the window handle from the path into ``root_path`` and adds the cookie changes the
    request's handling asked for to its response (error pages included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        root: str = scope.get("root_path", "")
        match = _WINDOW_PATH.match(_route_path(scope))
        window = RequestWindow(match.group(1) if match else None, root)
        scope = {**scope, _SCOPE_KEY: window}
        if match is not None:
            scope["root_path"] = f"{root}{match.group(0)}"

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for cookie in window.set_cookies:
                    headers.append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookies)
