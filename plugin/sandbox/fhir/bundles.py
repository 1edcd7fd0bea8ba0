"""The Bundles the sandbox answers with (searchset, history, transaction-response), pure."""

from __future__ import annotations

import uuid
from typing import Any

from plugin.sandbox.fhir.store import StoredResource

__all__ = ["history_bundle", "searchset_bundle", "transaction_response_bundle"]


def _bundle(kind: str, now: str) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": now},
        "type": kind,
    }


def searchset_bundle(
    *,
    fhir_base: str,
    self_url: str,
    next_url: str | None,
    total: int,
    page: list[StoredResource],
    now: str,
) -> dict[str, Any]:
    bundle = _bundle("searchset", now)
    bundle["total"] = total
    bundle["link"] = [{"relation": "self", "url": self_url}]
    if next_url is not None:
        bundle["link"].append({"relation": "next", "url": next_url})
    if page:
        bundle["entry"] = [
            {
                "fullUrl": f"{fhir_base}/{s.reference}",
                "resource": s.body,
                "search": {"mode": "match"},
            }
            for s in page
        ]
    return bundle


def history_bundle(*, fhir_base: str, versions: list[StoredResource], now: str) -> dict[str, Any]:
    bundle = _bundle("history", now)
    bundle["total"] = len(versions)
    bundle["entry"] = [
        {
            "fullUrl": f"{fhir_base}/{s.reference}",
            "resource": s.body,
            "request": {
                "method": "POST" if s.version == 1 else "PUT",
                "url": s.resource_type if s.version == 1 else s.reference,
            },
            "response": {
                "status": "201 Created" if s.version == 1 else "200 OK",
                "etag": s.etag,
                "lastModified": s.last_updated,
            },
        }
        for s in versions
    ]
    return bundle


def transaction_response_bundle(
    *,
    fhir_base: str,
    results: list[tuple[StoredResource, bool]],
    now: str,
    representation: bool,
) -> dict[str, Any]:
    """`results`: per entry in request order, the stored resource and whether it was created."""
    bundle = _bundle("transaction-response", now)
    entries: list[dict[str, Any]] = []
    for stored, created in results:
        entry: dict[str, Any] = {
            "fullUrl": f"{fhir_base}/{stored.reference}",
            "response": {
                "status": "201 Created" if created else "200 OK",
                "location": f"{stored.reference}/_history/{stored.version}",
                "etag": stored.etag,
                "lastModified": stored.last_updated,
            },
        }
        if representation:
            entry["resource"] = stored.body
        entries.append(entry)
    bundle["entry"] = entries
    return bundle
