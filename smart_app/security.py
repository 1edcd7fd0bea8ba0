"""Browser-facing protections: the session cookie, CSRF, and the security headers.

- Session cookies: one per app window (one per launch), named after the window's handle
  (`__Host-discogram-session-<handle>`), each holding its session's opaque random id;
  `HttpOnly`, `Path=/`, and — except in development on http://localhost — `Secure;
  SameSite=None; Partitioned` so they survive inside the EHR's iframe (third-party context;
  `Partitioned` = CHIPS) under the `__Host-` prefix. The handle is in the window's URLs; the
  session id only ever in the cookie. A cookie without a handle in its name is from before
  windows had handles.
- Launch cookie: one per launch (named after its `state`), holding a random value whose hash
  the launch record keeps, so only the browser that started a launch can finish it at
  /callback (SMART: `state` tied to the user's session). Same attributes as the session cookie,
  ten minutes' life, cleared when the launch completes.
- CSRF: a random token per session in a hidden form field (or `X-CSRF-Token` header), compared
  in constant time on every state-changing request of the app's pages.
- Headers: `Content-Security-Policy` with `frame-ancestors` limited to 'self' and the
  registered EHR origins (never `*`, and no `X-Frame-Options: DENY`, which would break the EHR
  iframe), `Referrer-Policy: no-referrer`, `X-Content-Type-Options: nosniff`, and `no-store`
  caching unless a response says otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plugin.errors import ConfigurationError
from smart_app.errors import CsrfError
from smart_app.settings import Settings

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "WINDOW_LIMIT_VALUE",
    "SecurityHeadersMiddleware",
    "check_csrf",
    "content_security_policy",
    "expired_launch_cookie",
    "expired_session_cookie",
    "frame_ancestor_origins",
    "launch_cookie",
    "launch_cookie_name",
    "session_cookie",
    "session_cookie_handles",
    "session_cookie_name",
    "window_limit_cookie",
]

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


_SESSION_COOKIE = "discogram-session"
_HANDLE = re.compile(r"[A-Za-z0-9_-]{22}")
#: The value left in a window's cookie when the window was signed out to make room for a newer
#: one (not a session id: those are 43 characters), so its next page can say so.
WINDOW_LIMIT_VALUE = "signed-out-window-limit"
#: How long that note is kept: it only has to outlive a clinician's pause.
_WINDOW_LIMIT_SECONDS = 3600


def _session_cookie_base(secure: bool) -> str:
    # `__Host-` makes browsers insist on Secure, Path=/ and no Domain: no subdomain can plant it.
    return f"__Host-{_SESSION_COOKIE}" if secure else _SESSION_COOKIE


def session_cookie_name(handle: str | None, *, secure: bool) -> str:
    """The session cookie of the window `handle` (None: the one cookie of before handles)."""
    base = _session_cookie_base(secure)
    return base if handle is None else f"{base}-{handle}"


def session_cookie_handles(cookies: Mapping[str, str], *, secure: bool) -> dict[str | None, str]:
    """The browser's session cookies by window handle (None: a cookie of before handles)."""
    base = _session_cookie_base(secure)
    found: dict[str | None, str] = {}
    for name, value in cookies.items():
        if name == base:
            found[None] = value
        elif name.startswith(f"{base}-") and _HANDLE.fullmatch(name[len(base) + 1 :]):
            found[name[len(base) + 1 :]] = value
    return found


def _set_cookie(name: str, value: str, *, secure: bool, max_age: int | None = None) -> str:
    """A Set-Cookie value (built by hand: Starlette cannot emit `Partitioned` on 3.11)."""
    lifetime = f"; Max-Age={max_age}" if max_age is not None else ""
    # Browsers reject SameSite=None without Secure; on http://localhost the iframe is same-site.
    attributes = "Secure; SameSite=None; Partitioned" if secure else "SameSite=Lax"
    return f"{name}={value}; Path=/; HttpOnly{lifetime}; {attributes}"


def session_cookie(session_id: str, handle: str | None, *, secure: bool) -> str:
    return _set_cookie(session_cookie_name(handle, secure=secure), session_id, secure=secure)


def expired_session_cookie(handle: str | None, *, secure: bool) -> str:
    return _set_cookie(session_cookie_name(handle, secure=secure), "", secure=secure, max_age=0)


def window_limit_cookie(handle: str | None, *, secure: bool) -> str:
    """Replaces the session cookie of a window signed out for a newer one (no session id)."""
    return _set_cookie(
        session_cookie_name(handle, secure=secure),
        WINDOW_LIMIT_VALUE,
        secure=secure,
        max_age=_WINDOW_LIMIT_SECONDS,
    )


def launch_cookie_name(state: str, *, secure: bool) -> str:
    # Named per state so launches in several tabs of one browser keep their own cookie; a hash
    # keeps the name short and free of anything a cookie name cannot hold.
    suffix = hashlib.sha256(state.encode()).hexdigest()[:24]
    return f"__Host-discogram-launch-{suffix}" if secure else f"discogram-launch-{suffix}"


def launch_cookie(state: str, binding: str, *, secure: bool, max_age: int) -> str:
    """The cookie that ties the launch `state` to this browser (value: the random binding)."""
    return _set_cookie(
        launch_cookie_name(state, secure=secure), binding, secure=secure, max_age=max_age
    )


def expired_launch_cookie(state: str, *, secure: bool) -> str:
    return _set_cookie(launch_cookie_name(state, secure=secure), "", secure=secure, max_age=0)


def check_csrf(submitted: str | None, expected: str) -> None:
    if submitted is None or not hmac.compare_digest(submitted.encode(), expected.encode()):
        raise CsrfError(
            "The form was not accepted because it could not be matched to your session (it may "
            "be from an older window). Reload the page and try again.",
            "CSRF token missing or wrong",
        )


def _origin(value: str) -> str:
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or "*" in value
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username
    ):
        raise ValueError(f"{value!r} must be an origin such as https://ehr.example.org")
    return f"{parts.scheme}://{parts.netloc}".lower()


def frame_ancestor_origins(settings: Settings) -> list[str]:
    """The origins allowed to frame the app: each registered EHR's and its `frame_origins`.
    Raises ConfigurationError with one line per unusable origin, each naming its setting."""
    origins: dict[str, None] = {}
    problems: list[str] = []
    for index, registration in enumerate(settings.ehr):
        named = [(f"ehr.{index}.iss", registration.origin)]
        named += [
            (f"ehr.{index}.frame_origins.{position}", extra)
            for position, extra in enumerate(registration.frame_origins)
        ]
        for setting, value in named:
            try:
                origins[_origin(value)] = None
            except ValueError as exc:
                problems.append(f"{setting}: {exc}")
    if problems:
        raise ConfigurationError("\n".join(problems))
    return list(origins)


def content_security_policy(frame_ancestors: Sequence[str]) -> str:
    ancestors = " ".join(["'self'", *frame_ancestors])
    return (
        "default-src 'self'; "
        f"frame-ancestors {ancestors}; "
        "base-uri 'none'; "
        "form-action 'self'; "
        "object-src 'none'"
    )


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response of the app (pure ASGI)."""

    def __init__(self, app: ASGIApp, *, frame_ancestors: Iterable[str]) -> None:
        self.app = app
        self.csp = content_security_policy(list(frame_ancestors))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # A response may bring a stricter policy of its own (the report preview).
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = self.csp
                headers["Referrer-Policy"] = "no-referrer"
                headers["X-Content-Type-Options"] = "nosniff"
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
