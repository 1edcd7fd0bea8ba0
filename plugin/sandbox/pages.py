"""HTML pages of the sandbox (EHR page, patient picker, consent, errors): Jinja2 templates
with autoescaping, sent with a Content-Security-Policy that allows no script at all."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse

__all__ = ["render"]

_ENVIRONMENT = Environment(
    loader=PackageLoader("plugin.sandbox", "templates"),
    autoescape=select_autoescape(["html"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(
    template: str,
    *,
    status: int = 200,
    frame_src: str | None = None,
    redirect_origin: str | None = None,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render a page. `frame_src` is the one origin the page may embed (the app's iframe);
    `redirect_origin` the app origin a form on the page ends up redirecting to (browsers
    apply form-action to the redirect too)."""
    html = _ENVIRONMENT.get_template(template).render(**context)
    targets = " ".join(["'self'", *([redirect_origin] if redirect_origin else [])])
    # frame-ancestors 'self': the sandbox's own EHR page frames the app, and the app's
    # authorize redirect shows the consent and patient-picker pages inside that same iframe.
    policy = (
        f"default-src 'none'; style-src 'self'; img-src 'self'; form-action {targets}; "
        "frame-ancestors 'self'; base-uri 'none'"
    )
    if frame_src:
        policy += f"; frame-src {frame_src}"
    response_headers = {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        **(headers or {}),
    }
    return HTMLResponse(html, status_code=status, headers=response_headers)
