"""The conformance package as the validator uses it: every StructureDefinition, CodeSystem and
ValueSet in `conformance/`, loaded and indexed once."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from plugin.conformance.element_tree import ElementNode, element_tree
from plugin.errors import ConfigurationError
from plugin.resources import conformance_dir

__all__ = ["ConformancePackage", "StructureProfile", "default_package", "load_package"]

Codes = frozenset[tuple[str, str]]  # (system, code)


@dataclass(frozen=True, slots=True)
class StructureProfile:
    url: str
    type: str
    title: str
    root: ElementNode


@dataclass(frozen=True, slots=True)
class ConformancePackage:
    profiles: Mapping[str, StructureProfile]
    #: Codes of each ValueSet; None for one that cannot be expanded here (it draws on a code
    #: system the package does not hold in full).
    value_sets: Mapping[str, Codes | None]

    def value_set_codes(self, url: str) -> Codes | None:
        return self.value_sets.get(url)


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            resource = json.load(handle)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"conformance resource {path.name} cannot be read: {exc}") from exc
    if not isinstance(resource, dict):
        raise ConfigurationError(f"conformance resource {path.name} is not a JSON object")
    return resource


def _expand(value_set: Mapping[str, Any], systems: Mapping[str, Codes]) -> Codes | None:
    compose = value_set.get("compose", {})

    def gather(parts: Iterable[Mapping[str, Any]]) -> Codes | None:
        codes: set[tuple[str, str]] = set()
        for part in parts:
            system = str(part.get("system", ""))
            if "valueSet" in part or "filter" in part or not system:
                return None
            if "concept" in part:
                codes.update((system, str(c["code"])) for c in part["concept"])
            elif system in systems:
                codes.update(systems[system])
            else:
                return None
        return frozenset(codes)

    included = gather(compose.get("include", []))
    excluded = gather(compose.get("exclude", []))
    if included is None or excluded is None:
        return None
    return included - excluded


def load_package(directory: Path) -> ConformancePackage:
    """Load the conformance resources in `directory` (not its subfolders, where the examples
    live). Raises ConfigurationError for a resource that cannot be read, ValueError for a
    profile whose snapshot the validator cannot use."""
    resources = [_read(path) for path in sorted(directory.glob("*.json"))]
    systems: dict[str, Codes] = {
        str(cs["url"]): frozenset((str(cs["url"]), str(c["code"])) for c in cs.get("concept", []))
        for cs in resources
        if cs.get("resourceType") == "CodeSystem" and cs.get("content") == "complete"
    }
    value_sets = {
        str(vs["url"]): _expand(vs, systems)
        for vs in resources
        if vs.get("resourceType") == "ValueSet"
    }
    profiles = {
        str(sd["url"]): StructureProfile(
            url=str(sd["url"]),
            type=str(sd["type"]),
            title=str(sd.get("title", sd["url"])),
            root=element_tree(sd["snapshot"]["element"]),
        )
        for sd in resources
        if sd.get("resourceType") == "StructureDefinition"
        and sd.get("derivation") == "constraint"
        and "snapshot" in sd
    }
    return ConformancePackage(profiles, value_sets)


@cache
def default_package() -> ConformancePackage:
    """The product's own package, from `conformance/`, loaded on first use."""
    return load_package(conformance_dir())
