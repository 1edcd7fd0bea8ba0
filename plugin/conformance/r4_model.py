"""What FHIR R4 (4.0.1) defines: element paths and their types, from the R4 model info bundled
with fhirpathpy (generated from the R4 specification).

The product models resources with fhir.resources' R4B classes, which know elements and resource
types that R4 lacks (``Extension.valueRatioRange``, ``Citation``); this module is the arbiter of
what may go on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from fhirpathpy.models import models

__all__ = [
    "R4_MODEL",
    "ElementKind",
    "R4Element",
    "choice_stem",
    "choice_types",
    "element_in_r4",
    "is_resource_type",
    "json_kind",
]

#: The model object fhirpathpy's `compile`/`evaluate` take to resolve R4 choice types.
R4_MODEL: dict[str, Any] = models["r4"]

_PATH_TO_TYPE: dict[str, str] = R4_MODEL["path2Type"]
_CHOICES: dict[str, list[str]] = R4_MODEL["choiceTypePaths"]
_DEFINED_ELSEWHERE: dict[str, str] = R4_MODEL["pathsDefinedElsewhere"]
_PARENT_TYPE: dict[str, str] = R4_MODEL["type2Parent"]

# A backbone element (Observation.component) has no entry of its own, only its children do.
_BACKBONE_PATHS: frozenset[str] = frozenset(
    ".".join(parts[:end])
    for parts in (path.split(".") for path in _PATH_TO_TYPE)
    for end in range(2, len(parts))
) - frozenset(_PATH_TO_TYPE)

# Observation.valueQuantity → Observation.value: one JSON name of a choice element → its stem.
_CHOICE_STEMS: dict[str, str] = {
    f"{stem}{suffix}": stem for stem, suffixes in _CHOICES.items() for suffix in suffixes
}

# FHIRPath System types the R4 model uses for `id` and `Extension.url`.
_SYSTEM_STRING = "System.String"


class ElementKind(StrEnum):
    PRIMITIVE = "primitive"
    COMPLEX = "complex"  # a datatype: Quantity, CodeableConcept, …
    BACKBONE = "backbone"  # an element defined inline: Observation.component
    RESOURCE = "resource"  # contained, Bundle.entry.resource


@dataclass(frozen=True, slots=True)
class R4Element:
    path: str  # as the R4 model names it: Observation.component.valueQuantity
    type_code: str  # quantity → "Quantity"; primitives lower-case: "dateTime"; "BackboneElement"
    kind: ElementKind
    #: Where its children are looked up: the datatype ("Quantity") or the backbone path.
    children_context: str | None


def _lineage(context: str) -> tuple[str, ...]:
    """A context and its ancestors (Age → Quantity → Element), where inherited elements live."""
    chain = [context]
    while chain[-1] in _PARENT_TYPE:
        chain.append(_PARENT_TYPE[chain[-1]])
    return tuple(chain)


@cache
def element_in_r4(context: str, name: str) -> R4Element | None:
    """The R4 element `name` of `context` (a type such as ``Quantity`` or a backbone path such
    as ``Observation.component``), or None when R4 has no such element.

    Choice elements are named with their type (``valueQuantity``), as on the wire.
    """
    for owner in _lineage(context):
        path = f"{owner}.{name}"
        if path in _DEFINED_ELSEWHERE:  # Observation.component.referenceRange
            target = _DEFINED_ELSEWHERE[path]
            return R4Element(path, "BackboneElement", ElementKind.BACKBONE, target)
        type_code = _PATH_TO_TYPE.get(path)
        if type_code is not None:
            return _typed_element(path, type_code)
        if path in _BACKBONE_PATHS:
            return R4Element(path, "BackboneElement", ElementKind.BACKBONE, path)
    return None


def _typed_element(path: str, type_code: str) -> R4Element:
    if type_code == _SYSTEM_STRING or type_code[0].islower():
        return R4Element(path, type_code, ElementKind.PRIMITIVE, None)
    if type_code == "Resource":
        return R4Element(path, type_code, ElementKind.RESOURCE, None)
    return R4Element(path, type_code, ElementKind.COMPLEX, type_code)


@cache
def is_resource_type(name: str) -> bool:
    """True for a concrete R4 resource type (``Observation``), false for ``Citation`` (R4B),
    datatypes and the abstract ``Resource``/``DomainResource``."""
    lineage = _lineage(name)
    return len(lineage) > 1 and lineage[-1] == "Resource" and name not in ("DomainResource",)


def choice_types(path: str) -> tuple[str, ...]:
    """Type suffixes R4 allows for a choice element: ``Observation.effective`` →
    ``("DateTime", "Period", "Timing", "Instant")``; empty when `path` is not a choice."""
    return tuple(_CHOICES.get(path, ()))


def choice_stem(path: str) -> str | None:
    """``Observation.valueQuantity`` → ``Observation.value``; None when not a choice element."""
    return _CHOICE_STEMS.get(path)


def json_kind(type_code: str) -> type | tuple[type, ...]:
    """The JSON type a primitive of `type_code` must have on the wire (R4 JSON format)."""
    if type_code == "boolean":
        return bool
    if type_code in ("integer", "positiveInt", "unsignedInt"):
        return int
    if type_code == "decimal":
        return (int, float)
    return str
