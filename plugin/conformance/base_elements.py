"""The element definitions of FHIR R4 base resources and datatypes, as a snapshot lists them.

No HL7 StructureDefinition package is available offline, so the base is derived from two
sources: fhir.resources' R4B model classes give each element's order, cardinality, choice
group, summary flag and text; fhirpathpy's R4 model decides which elements exist in R4 and
their types (a choice element takes R4's list of types). An element R4 lacks is left out,
whatever R4B says.
"""

from __future__ import annotations

import copy
import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.backboneelement import BackboneElement
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from pydantic.fields import FieldInfo

from plugin.conformance.r4_model import ElementKind, choice_types, element_in_r4

__all__ = ["ElementDefinition", "base_elements", "datatype_children"]

#: An ElementDefinition as it appears in a StructureDefinition's JSON.
ElementDefinition = dict[str, Any]

_ModelClass = type[FHIRAbstractModel]


@dataclass(frozen=True, slots=True)
class _Field:
    name: str  # JSON name: "valueQuantity"
    info: FieldInfo
    target: Any  # the annotation with Optional/list/Annotated removed


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(inner type, is a list) of a pydantic annotation such as ``Optional[List[X]]``."""
    repeating = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Union or origin is types.UnionType:
            annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        elif origin is list:
            repeating = True
            annotation = typing.get_args(annotation)[0]
        else:
            return annotation, repeating


def _extra(info: FieldInfo) -> dict[str, Any]:
    extra = info.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def _model_class(target: Any) -> _ModelClass | None:
    """The model class behind an ``abc.XType`` annotation, None for primitives."""
    get_model = getattr(target, "get_model_klass", None)
    if get_model is None:
        return None
    model: _ModelClass = get_model()
    return model


def _primitive_code(target: Any) -> str:
    """FHIR primitive type of a model annotation: ``Annotated[str, Code()]`` → ``code``."""
    if target is bool:
        return "boolean"
    if typing.get_origin(target) is typing.Annotated:
        marker = type(typing.get_args(target)[1]).__name__
        special = {"EncodedBytes": "base64Binary", "UuidVersion": "uuid"}
        return special.get(marker, marker[:1].lower() + marker[1:])
    return "string"


def _short_and_definition(model: _ModelClass, fallback: str) -> tuple[str, str]:
    """The class docstring after fhir.resources' disclaimer: its first line is the short
    description, the rest the definition."""
    paragraphs = [p.strip() for p in (model.__doc__ or "").split("\n\n") if p.strip()]
    text = [p for p in paragraphs if not p.startswith("Disclaimer:")]
    if not text:
        return fallback, fallback
    lines = [line.strip() for line in text[0].splitlines() if line.strip()]
    short = lines[0].rstrip(".")
    definition = " ".join(lines[1:]) or lines[0]
    return short, definition


def _fields(model: _ModelClass) -> list[_Field]:
    fields = []
    for name in model.elements_sequence():
        info = model.model_fields[name]
        if _extra(info).get("element_property"):
            fields.append(_Field(name, info, _unwrap(info.annotation)[0]))
    return fields


def _cardinality(field: _Field, choice: bool) -> tuple[int, str]:
    extra = _extra(field.info)
    required = (
        bool(extra.get("one_of_many_required"))
        if choice
        else field.info.is_required() or bool(extra.get("element_required"))
    )
    repeating = _unwrap(field.info.annotation)[1]
    return (1 if required else 0), ("*" if repeating else "1")


def _type_entry(field: _Field, r4_type: str) -> dict[str, Any]:
    model = _model_class(field.target)
    if r4_type == "System.String":  # R4 types `id` and Extension.url as FHIRPath strings
        code = _primitive_code(field.target)
    elif model is not None and r4_type == "BackboneElement":
        code = "BackboneElement" if issubclass(model, BackboneElement) else "Element"
    else:
        code = r4_type
    # No targetProfile: R4B widened several reference targets (Observation.subject takes an
    # Organization in R4B, not in R4) and the R4 model does not list them, so the base says
    # nothing rather than something wrong. Profiles state the targets they need.
    return {"code": code}


def _choice_type_entries(context: str, group: str) -> list[dict[str, Any]]:
    """The types of a choice element, as R4 lists them (R4B added some, dropped ``Meta``)."""
    entries = []
    for suffix in choice_types(f"{context}.{group}"):
        found = element_in_r4(context, group + suffix)
        if found is not None:
            entries.append({"code": found.type_code})
    return entries


def _element(
    path: str, base_path: str, short: str, definition: str, cardinality: tuple[int, str]
) -> ElementDefinition:
    minimum, maximum = cardinality
    return {
        "id": path,
        "path": path,
        "short": short,
        "definition": definition,
        "min": minimum,
        "max": maximum,
        "base": {"path": base_path, "min": minimum, "max": maximum},
    }


def _children(
    model: _ModelClass, path: str, r4_context: str, expanded: dict[type, str]
) -> list[ElementDefinition]:
    """Elements under `path`, depth first; a backbone met again (CodeSystem.concept.concept)
    becomes a contentReference to its first definition, as in the specification."""
    elements: list[ElementDefinition] = []
    fields = _fields(model)
    done: set[str] = set()
    for field in fields:
        group = _extra(field.info).get("one_of_many")
        name = f"{group}[x]" if group else field.name
        if name in done:
            continue
        done.add(name)
        members = (
            [f for f in fields if _extra(f.info).get("one_of_many") == group] if group else [field]
        )
        in_r4 = [(f, element_in_r4(r4_context, f.name)) for f in members]
        present = [(f, e) for f, e in in_r4 if e is not None]
        if not present:
            continue  # R4B-only element
        element_path = f"{path}.{name}"
        first = present[0][0]
        element = _element(
            element_path,
            element_path,
            first.info.title or name,
            first.info.description or first.info.title or name,
            _cardinality(first, choice=bool(group)),
        )
        if _extra(first.info).get("summary_element_property"):
            element["isSummary"] = True
        r4_element = present[0][1]
        assert r4_element is not None
        backbone = _model_class(first.target)
        if r4_element.kind is ElementKind.BACKBONE and backbone is not None:
            if backbone in expanded:
                element["contentReference"] = f"#{expanded[backbone]}"
                elements.append(element)
                continue
            expanded[backbone] = element_path
            element["type"] = [_type_entry(first, "BackboneElement")]
            elements.append(element)
            assert r4_element.children_context is not None
            elements.extend(
                _children(backbone, element_path, r4_element.children_context, expanded)
            )
            continue
        element["type"] = (
            _choice_type_entries(r4_context, group)
            if group
            else [_type_entry(first, r4_element.type_code)]
        )
        elements.append(element)
    return elements


@cache
def _base(type_name: str) -> tuple[ElementDefinition, ...]:
    model = get_fhir_model_class(type_name)
    short, definition = _short_and_definition(model, type_name)
    root = _element(type_name, type_name, short, definition, (0, "*"))
    return (root, *_children(model, type_name, type_name, {}))


def base_elements(type_name: str) -> list[ElementDefinition]:
    """Every element of an R4 resource or datatype, root first, in the specification's order,
    backbone elements expanded, as a fresh list the caller may change."""
    return copy.deepcopy(list(_base(type_name)))


def datatype_children(type_name: str, path: str, element_id: str) -> list[ElementDefinition]:
    """The children of datatype `type_name`, placed under the element `element_id` (path
    `path`) of a snapshot, as a snapshot shows them once a profile constrains one. Their
    `base` stays the datatype's own (``Quantity.code``)."""
    children = []
    for element in base_elements(type_name)[1:]:
        suffix = element["path"][len(type_name) :]
        element["id"] = element_id + suffix
        element["path"] = path + suffix
        children.append(element)
    return children
