"""The EHR's prefetch (CDS Hooks 2.0 §Prefetch Template): each template of the discovery
document, its tokens replaced from the hook context, run against the sandbox's own FHIR
server in-process, so the prefetch holds exactly what the FHIR API would answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from plugin.sandbox.cds.request import prefetch_query
from plugin.sandbox.instance import SandboxEhr

__all__ = ["prefetch_from_store"]

_TIMEOUT = httpx.Timeout(10.0, connect=2.0)


async def prefetch_from_store(
    sandbox: SandboxEhr, templates: Mapping[str, Any], context: Mapping[str, Any], token: str
) -> dict[str, Any]:
    """The prefetch object: a search's Bundle, a read's resource, ``null`` for a read that
    finds nothing; a query that fails, or names a token the context lacks, is left out, so
    the service fetches it itself. `token` is an access token to the patient's chart."""
    base = sandbox.config.fhir_base
    found: dict[str, Any] = {}
    own = httpx.ASGITransport(app=sandbox.own_app())
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    async with httpx.AsyncClient(transport=own, timeout=_TIMEOUT) as fhir:
        for key, template in templates.items():
            query = prefetch_query(str(template), context)
            if query is None:
                continue
            response = await fhir.get(f"{base}/{query}", headers=headers)
            if response.status_code == 200:
                result = response.json()
                if "?" in query:
                    result = await _all_pages(fhir, result, headers)
                if result is not None:
                    found[key] = result
            elif response.status_code in (404, 410) and "?" not in query:
                found[key] = None
    return found


async def _all_pages(
    fhir: httpx.AsyncClient, bundle: dict[str, Any], headers: Mapping[str, str]
) -> dict[str, Any] | None:
    """The whole search as one Bundle, as an EHR's prefetch holds it: a first page alone would
    make the service fetch the rest itself. None when a later page fails (the key is then left
    out, for the service to fetch)."""
    entries = list(bundle.get("entry") or [])
    page = bundle
    while (link := _next_link(page)) is not None:
        response = await fhir.get(link, headers=headers)
        if response.status_code != 200:
            return None
        page = response.json()
        entries.extend(page.get("entry") or [])
    links = [k for k in bundle.get("link") or [] if k.get("relation") != "next"]
    return {**bundle, "link": links, "entry": entries}


def _next_link(bundle: Mapping[str, Any]) -> str | None:
    for link in bundle.get("link") or []:
        if link.get("relation") == "next" and isinstance(link.get("url"), str):
            return str(link["url"])
    return None
