"""CSRF protection of the EHR page's forms: a random token in a SameSite=Strict, HttpOnly
cookie that each form must echo (the double-submit pattern)."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import Response

__all__ = ["CSRF_COOKIE", "CSRF_FIELD", "csrf_token", "remember_csrf_token", "valid_csrf"]

CSRF_COOKIE = "sandbox_csrf"
CSRF_FIELD = "csrf_token"


def csrf_token(request: Request) -> str:
    """The browser's token, or a new one (then `remember_csrf_token` must set the cookie)."""
    existing = request.cookies.get(CSRF_COOKIE, "")
    return existing if len(existing) >= 32 else secrets.token_urlsafe(32)


def remember_csrf_token(response: Response, token: str, secure: bool) -> None:
    response.set_cookie(
        CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/ehr"
    )


def valid_csrf(request: Request, submitted: object) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return (
        isinstance(submitted, str)
        and len(cookie) >= 32
        and secrets.compare_digest(cookie.encode(), submitted.encode())
    )
