"""The EHR's look (`smart_style_url`, App Launch §Styling), applied as CSS custom properties.

The style document is fetched server-side, only from the EHR's own origins, and each value is
kept only if it matches a strict pattern (colours, lengths, font names), so nothing the EHR
sends can inject CSS or markup. The sanitised values are served from our own origin as
`/app/style.css` (no inline styles: the CSP forbids them).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

import httpx

__all__ = ["fetch_style", "sanitise_style", "style_sheet"]

log = logging.getLogger(__name__)

_MAX_BYTES = 64 * 1024
_COLOUR = re.compile(
    r"#[0-9a-fA-F]{3,8}|rgba?\(\s*[0-9.]+%?\s*(,\s*[0-9.]+%?\s*){2,3}\)|[a-zA-Z]{3,20}"
)
_LENGTH = re.compile(r"[0-9]{1,4}(\.[0-9]{1,3})?(px|em|rem|%)")
_FONT = re.compile(r"[A-Za-z0-9 ,\-]{1,120}")
# SMART's style properties and the pattern each must match.
_PROPERTIES: dict[str, re.Pattern[str]] = {
    "color_background": _COLOUR,
    "color_error": _COLOUR,
    "color_highlight": _COLOUR,
    "color_modal_backdrop": _COLOUR,
    "color_success": _COLOUR,
    "color_text": _COLOUR,
    "dim_border_radius": _LENGTH,
    "dim_font_size": _LENGTH,
    "dim_spacing_size": _LENGTH,
    "font_family_body": _FONT,
    "font_family_heading": _FONT,
}


def sanitise_style(document: object) -> dict[str, str]:
    """CSS custom properties (``--smart-color-background`` …) from a SMART style document;
    values that do not match their pattern are dropped."""
    if not isinstance(document, Mapping):
        return {}
    kept: dict[str, str] = {}
    for name, pattern in _PROPERTIES.items():
        value = document.get(name)
        if isinstance(value, str) and pattern.fullmatch(value.strip()):
            kept["--smart-" + name.replace("_", "-")] = value.strip()
    return kept


def style_sheet(properties: Mapping[str, str]) -> str:
    """The stylesheet defining the (already sanitised) properties on `:root`."""
    lines = [
        f"  {name}: {value};" for name, value in properties.items() if name.startswith("--smart-")
    ]
    return ":root {\n" + "\n".join(lines) + "\n}\n"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


async def fetch_style(
    http: httpx.AsyncClient,
    url: str,
    *,
    trusted_origins: Iterable[str],
    allow_plain_http: bool,
) -> dict[str, str]:
    """The sanitised style at `url`, or {} when it is not on a trusted origin or unavailable
    (styling is cosmetic: it never stops a launch)."""
    parts = urlsplit(url)
    if parts.scheme not in (("https", "http") if allow_plain_http else ("https",)):
        log.info("smart_style_url ignored: not https")
        return {}
    if _origin(url) not in {o.lower() for o in trusted_origins}:
        log.info("smart_style_url ignored: not on the EHR's origin")
        return {}
    try:
        response = await http.get(url, headers={"Accept": "application/json"}, timeout=5.0)
    except httpx.HTTPError as exc:
        log.info("smart_style_url unavailable: %s", type(exc).__name__)
        return {}
    if response.status_code != 200 or len(response.content) > _MAX_BYTES:
        log.info("smart_style_url unusable: HTTP %d", response.status_code)
        return {}
    try:
        return sanitise_style(response.json())
    except ValueError:
        return {}
