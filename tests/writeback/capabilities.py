"""CapabilityStatements and grants for the strategy and plan tests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from plugin.writeback import WriteAccess
from plugin.writeback.strategy import REPORT_TYPES
from smart_app.capabilities import ServerCapabilities

ALL = REPORT_TYPES


def statement(**options: Any) -> ServerCapabilities:
    return ServerCapabilities.from_statement(statement_json(**options))


def statement_json(
    *,
    transaction: bool = True,
    creatable: Iterable[str] = ALL,
    conditional: Iterable[str] = ALL,
    updatable: Iterable[str] = ALL,
    searchable: Iterable[str] = ALL,
    params: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    creatable, conditional = set(creatable), set(conditional)
    updatable, searchable = set(updatable), set(searchable)
    resources: list[dict[str, Any]] = []
    for resource_type in ALL:
        interactions = ["read"]
        if resource_type in creatable:
            interactions.append("create")
        if resource_type in updatable:
            interactions.append("update")
        if resource_type in searchable:
            interactions.append("search-type")
        names = (params or {}).get(resource_type, ["identifier", "_tag", "patient"])
        resources.append(
            {
                "type": resource_type,
                "interaction": [{"code": c} for c in interactions],
                "conditionalCreate": resource_type in conditional,
                "searchParam": [{"name": n, "type": "token"} for n in names],
            }
        )
    rest: dict[str, Any] = {"mode": "server", "resource": resources}
    if transaction:
        rest["interaction"] = [{"code": "transaction"}]
    return {"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1", "rest": [rest]}


def access(
    *,
    create: Iterable[str] = ALL,
    update: Iterable[str] = ALL,
    search: Iterable[str] = ALL,
) -> WriteAccess:
    return WriteAccess(frozenset(create), frozenset(update), frozenset(search))
