"""CORS for browser-based CDS clients such as the CDS Hooks sandbox (CDS Hooks 2.0
§Cross-Origin Resource Sharing), on discovery, service and feedback answers alike — peers broke
clients by answering GET but not POST (hapi #717).

Any origin is allowed: calls are authenticated by the client's JWT in the Authorization header,
never by cookies, so no credentials are allowed and an origin gains nothing on its own."""

from __future__ import annotations

__all__ = ["CORS_HEADERS", "PREFLIGHT_HEADERS"]

CORS_HEADERS: dict[str, str] = {"Access-Control-Allow-Origin": "*"}

PREFLIGHT_HEADERS: dict[str, str] = {
    **CORS_HEADERS,
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
}
