"""HTML rendering of the app's pages (Jinja2, autoescaping always on) and the one place where
errors become pages: a SmartError or FhirError becomes the error page with its status code."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from smart_app.errors import SmartError
from smart_app.fhir_errors import FhirAuthError, FhirError

__all__ = ["STATIC_DIR", "TEMPLATES_DIR", "error_page", "page_environment", "render"]

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"


def page_environment() -> Environment:
    # autoescape=True for every template, whatever its extension: no page may echo raw input.
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True, auto_reload=False
    )
    environment.filters["capitalize_first"] = _capitalize_first
    return environment


def _capitalize_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def render(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    environment: Environment = request.app.state.pages
    root = request.scope.get("root_path", "")
    body = environment.get_template(template).render(root=root, **context)
    return HTMLResponse(body, status_code=status_code)


def error_page(request: Request, exc: Exception) -> Response:
    """The error page for a SmartError or FhirError (registered as exception handler)."""
    if isinstance(exc, SmartError):
        log.warning("%s (HTTP %d): %s", type(exc).__name__, exc.status_code, exc.detail)
        return render(
            request,
            "error.html",
            {
                "title": exc.title,
                "clinician": exc.clinician,
                "detail": exc.detail,
                "error_code": exc.error_code,
                "status": exc.status_code,
            },
            status_code=exc.status_code,
        )
    if isinstance(exc, FhirError):
        # str(exc) is log-safe by contract (no ids, URLs or tokens).
        log.warning("FHIR error on a page: %s", exc)
        status = 403 if isinstance(exc, FhirAuthError) else 502
        return render(
            request,
            "error.html",
            {
                "title": "The EHR did not answer as expected",
                "clinician": exc.user_message,
                "detail": str(exc),
                "error_code": None,
                "status": status,
            },
            status_code=status,
        )
    raise exc
