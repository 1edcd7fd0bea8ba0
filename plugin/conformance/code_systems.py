"""The product's CodeSystems as FHIR resources, from `plugin.terminology.PRODUCT_CODE_SYSTEMS`."""

from __future__ import annotations

from typing import Any

from plugin.conformance.canonicals import (
    CONFORMANCE_DATE,
    CONFORMANCE_VERSION,
    PUBLISHER,
    value_set_url,
)
from plugin.terminology import PRODUCT_CODE_SYSTEMS, ProductCodeSystem

__all__ = ["code_system_resources", "computable_name"]


def computable_name(resource_id: str) -> str:
    """``pain-response`` → ``PainResponse`` (the `name` of a conformance resource)."""
    return "".join(part[:1].upper() + part[1:] for part in resource_id.split("-"))


def _code_system(system: ProductCodeSystem) -> dict[str, Any]:
    return {
        "resourceType": "CodeSystem",
        "id": system.id,
        "url": system.url,
        "version": CONFORMANCE_VERSION,
        "name": computable_name(system.id),
        "title": system.title,
        "status": "active",
        "experimental": False,
        "date": CONFORMANCE_DATE,
        "publisher": PUBLISHER,
        "description": system.description,
        "caseSensitive": True,
        "valueSet": value_set_url(system.id),
        "content": "complete",
        "count": len(system.concepts),
        "concept": [
            {"code": code, "display": display, "definition": definition}
            for code, display, definition in system.concepts
        ],
    }


def code_system_resources() -> list[dict[str, Any]]:
    """One CodeSystem per product code system, in `PRODUCT_CODE_SYSTEMS` order."""
    return [_code_system(system) for system in PRODUCT_CODE_SYSTEMS.values()]
