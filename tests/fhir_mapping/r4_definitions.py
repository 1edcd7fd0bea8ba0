"""FHIR R4 (4.0.1) element definitions, to prove emitted JSON uses only R4 elements.

fhir.resources' R4B models accept a few elements R4 lacks; fhirpathpy ships R4's own element
paths and types (`models/r4`), which this walks the JSON against.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import fhirpathpy

__all__ = ["r4_violations"]

_MODEL = Path(fhirpathpy.__file__).parent / "models" / "r4"


@cache
def _model() -> tuple[dict[str, str], dict[str, list[str]], dict[str, str], dict[str, str]]:
    def load(name: str) -> Any:
        return json.loads((_MODEL / f"{name}.json").read_text(encoding="utf-8"))

    return (
        load("path2Type"),
        load("choiceTypePaths"),
        load("pathsDefinedElsewhere"),
        load("type2Parent"),
    )


def _is_primitive(kind: str) -> bool:
    return kind.startswith("System.") or kind[:1].islower()


def _resolve(path: str, key: str) -> tuple[str, str] | None:
    """(new path, type) of element `key` under `path`, or None when R4 has no such element.

    `path` is a type name (``Reference``) or a backbone element path
    (``Observation.component``); the returned path is where to look for the children.
    """
    path2type, choices, elsewhere, parents = _model()
    base: str | None = path
    while base is not None:
        candidate = elsewhere.get(f"{base}.{key}", f"{base}.{key}")
        if candidate in path2type:
            kind = path2type[candidate]
            return (candidate if kind in ("BackboneElement", "Element") else kind), kind
        for choice, types in choices.items():
            prefix = choice.rsplit(".", 1)[1]
            if choice.startswith(f"{base}.") and choice.count(".") == base.count(".") + 1:
                suffix = key[len(prefix) :] if key.startswith(prefix) else ""
                if suffix and suffix in types:
                    return suffix, suffix
        if any(p.startswith(f"{candidate}.") for p in path2type):
            return candidate, "BackboneElement"
        base = parents.get(base) if "." not in base else None
    return None


def r4_violations(resource: dict[str, Any]) -> list[str]:
    """Every element path of `resource` that FHIR R4 does not define (empty when all do)."""
    return _walk(resource, resource["resourceType"], resource["resourceType"])


def _walk(node: dict[str, Any], path: str, shown: str) -> list[str]:
    problems: list[str] = []
    for key, value in node.items():
        if key == "resourceType":
            continue
        resolved = _resolve(path, key.removeprefix("_"))
        if resolved is None:
            problems.append(f"{shown}.{key}")
            continue
        child_path, kind = resolved
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                if kind == "Resource":
                    problems.extend(r4_violations(item))
                elif _is_primitive(kind) and not key.startswith("_"):
                    problems.append(f"{shown}.{key} (object for a primitive)")
                else:
                    problems.extend(_walk(item, child_path, f"{shown}.{key}"))
    return problems
