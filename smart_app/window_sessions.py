"""Which session a request belongs to, among the app windows open in its browser, and the cap
on how many windows one browser keeps.

With a window handle, only that window's cookie counts. Without one (an old link or bookmark),
the browser's one live session is used; with several the request is refused rather than shown
another window's patient. The cookies of ended sessions are cleared whenever they are seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from smart_app.errors import WindowLimitError, WindowUnknownError
from smart_app.security import (
    WINDOW_LIMIT_VALUE,
    expired_session_cookie,
    session_cookie_handles,
    session_cookie_name,
    window_limit_cookie,
)
from smart_app.services import SmartServices
from smart_app.session import LiveSession
from smart_app.windows import RequestWindow, request_window

__all__ = ["MAX_WINDOWS", "OpenWindow", "make_room_for_window", "open_windows", "window_session"]

#: App windows one browser keeps at once; opening another signs out the oldest.
MAX_WINDOWS = 8


@dataclass(frozen=True, slots=True)
class OpenWindow:
    handle: str | None  # None: the cookie of before window handles
    live: LiveSession


async def open_windows(
    cookies: Mapping[str, str], services: SmartServices, window: RequestWindow
) -> list[OpenWindow]:
    """The browser's windows with a live session; ended ones' cookies are cleared."""
    secure = services.settings.cookie_secure
    found: list[OpenWindow] = []
    for handle, value in session_cookie_handles(cookies, secure=secure).items():
        if value == WINDOW_LIMIT_VALUE:
            continue  # kept so the window's next page can say why; expires by itself
        live = await services.sessions.get(value) if value else None
        if live is None:
            window.set_cookies.append(expired_session_cookie(handle, secure=secure))
        else:
            found.append(OpenWindow(handle, live))
    return found


async def window_session(request: HTTPConnection, services: SmartServices) -> LiveSession | None:
    """The live session of the request's window; None when it has none."""
    window = request_window(request)
    secure = services.settings.cookie_secure
    if window.handle is None:
        windows = await open_windows(request.cookies, services, window)
        if len(windows) > 1:
            raise WindowUnknownError()
        if not windows:
            return None
        window.session_handle = windows[0].handle
        return windows[0].live
    value = request.cookies.get(session_cookie_name(window.handle, secure=secure))
    if not value:
        return None  # a handle without its cookie (another browser, or cleared) is nothing
    if value == WINDOW_LIMIT_VALUE:
        window.set_cookies.append(expired_session_cookie(window.handle, secure=secure))
        raise WindowLimitError(MAX_WINDOWS)
    live = await services.sessions.get(value)
    if live is None:
        window.set_cookies.append(expired_session_cookie(window.handle, secure=secure))
        return None
    window.session_handle = window.handle
    return live


async def make_room_for_window(request: HTTPConnection, services: SmartServices) -> None:
    """Before a new window's cookie is set: sign out the oldest windows beyond the cap."""
    window = request_window(request)
    windows = await open_windows(request.cookies, services, window)
    excess = len(windows) - (MAX_WINDOWS - 1)
    if excess <= 0:
        return
    secure = services.settings.cookie_secure
    for oldest in sorted(windows, key=lambda open_window: open_window.live.expires_at)[:excess]:
        await services.sessions.end(oldest.live.id)
        window.set_cookies.append(window_limit_cookie(oldest.handle, secure=secure))
