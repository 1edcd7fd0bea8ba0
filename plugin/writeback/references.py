"""References between the resources of one report, outside a transaction.

In the frozen Bundle, resources point at each other by ``urn:uuid:`` fullUrls, which only a
transaction resolves. Written one by one, each such reference must become the ``Type/id`` the
server gave the target — or be left out when the target is not (yet) in the chart.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["PLACEHOLDER_PREFIX", "placeholders_in", "rewrite_references", "strip_references"]

PLACEHOLDER_PREFIX = "urn:uuid:"


def _reference_holders(value: Any) -> Iterator[dict[str, Any]]:
    """Every object with a string ``reference`` (a FHIR Reference), depth first."""
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            yield value
        for item in value.values():
            yield from _reference_holders(item)
    elif isinstance(value, list):
        for item in value:
            yield from _reference_holders(item)


def placeholders_in(resource: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``urn:uuid:`` references of a resource, each once, in document order."""
    found = (
        str(holder["reference"])
        for holder in _reference_holders(dict(resource))
        if str(holder["reference"]).startswith(PLACEHOLDER_PREFIX)
    )
    return tuple(dict.fromkeys(found))


def rewrite_references(resource: Mapping[str, Any], resolved: Mapping[str, str]) -> dict[str, Any]:
    """A copy with each reference found in `resolved` (placeholder → ``Type/id``) replaced."""
    copied = copy.deepcopy(dict(resource))
    for holder in _reference_holders(copied):
        target = resolved.get(holder["reference"])
        if target is not None:
            holder["reference"] = target
    return copied


def strip_references(resource: Mapping[str, Any], placeholders: frozenset[str]) -> dict[str, Any]:
    """A copy without the references to `placeholders`: a list loses the item, an object the
    element; lists and objects left empty go too (FHIR forbids empty ones)."""
    stripped = _without(copy.deepcopy(dict(resource)), placeholders)
    return stripped if isinstance(stripped, dict) else {}


_GONE = object()


def _without(value: Any, placeholders: frozenset[str]) -> Any:
    if isinstance(value, dict):
        if value.get("reference") in placeholders:
            return _GONE
        kept = {}
        for key, item in value.items():
            result = _without(item, placeholders)
            if result is not _GONE:
                kept[key] = result
        return kept if kept or not value else _GONE
    if isinstance(value, list):
        items = [r for r in (_without(item, placeholders) for item in value) if r is not _GONE]
        return items if items or not value else _GONE
    return value
