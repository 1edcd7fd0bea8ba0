"""A StructureDefinition's snapshot as a tree the validator walks: one node per element, its
children in order, its slices apart, and everything the checks need worked out once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from plugin.conformance.base_elements import ElementDefinition
from plugin.conformance.fhirpath_invariants import CompiledInvariant, compile_invariant
from plugin.conformance.r4_model import choice_types

__all__ = ["Discriminator", "ElementNode", "element_tree"]

_HL7_PREFIX = "http://hl7.org/fhir/StructureDefinition/"


@dataclass(frozen=True, slots=True)
class Discriminator:
    type: str  # "pattern" or "value": both compare with the slice's fixed/pattern value
    path: str  # "$this", "code", "attachment"


@dataclass(slots=True)
class ElementNode:
    definition: ElementDefinition
    name: str  # the element's own name: "component", "value[x]"
    children: list[ElementNode] = field(default_factory=list)
    slices: list[ElementNode] = field(default_factory=list)
    invariants: tuple[CompiledInvariant, ...] = ()
    minimum: int = 0
    maximum: int | None = None  # None: unbounded
    type_codes: tuple[str, ...] = ()
    #: For a choice element: every type suffix R4 allows, to recognise its JSON names.
    choice_suffixes: tuple[str, ...] = ()
    fixed: tuple[str, Any] | None = None  # ("fixedCode", "final")
    pattern: tuple[str, Any] | None = None
    min_value: float | None = None
    max_value: float | None = None
    required_value_set: str | None = None
    #: Allowed reference targets: resource types and profile URLs; None means any.
    reference_targets: tuple[str, ...] | None = None
    discriminators: tuple[Discriminator, ...] = ()
    slicing_closed: bool = False
    slicing_ordered: bool = False

    @property
    def id(self) -> str:
        return str(self.definition["id"])

    @property
    def is_choice(self) -> bool:
        return self.name.endswith("[x]")

    @property
    def label(self) -> str:
        """How messages name a slice: ``painIntensity (Pain severity …)``."""
        slice_name = self.definition.get("sliceName", self.name)
        short = self.definition.get("short")
        return f"{slice_name} ({short})" if short else str(slice_name)

    def child(self, name: str) -> ElementNode | None:
        return next((c for c in self.children if c.name == name), None)

    def fhirpath_type(self, json_name: str) -> str:
        """The type FHIRPath evaluates this element's value as: the datatype for a datatype
        element (``Quantity``, from ``valueQuantity`` for a choice), the base path for a
        backbone element (``Observation.component``)."""
        if self.is_choice:
            return json_name[len(self.name) - 3 :]
        if len(self.type_codes) == 1 and self.type_codes[0] not in ("BackboneElement", "Element"):
            return self.type_codes[0]
        return str(self.definition.get("base", {}).get("path", self.definition["path"]))


def _typed_value(definition: ElementDefinition, prefix: str) -> tuple[str, Any] | None:
    return next(((k, v) for k, v in definition.items() if k.startswith(prefix)), None)


def _number(definition: ElementDefinition, prefix: str) -> float | None:
    found = _typed_value(definition, prefix)
    return float(found[1]) if found and isinstance(found[1], int | float) else None


def _reference_targets(definition: ElementDefinition) -> tuple[str, ...] | None:
    targets: list[str] = []
    for entry in definition.get("type", []):
        if entry.get("code") == "Reference":
            profiles = entry.get("targetProfile")
            if not profiles:
                return None
            targets += profiles
    if not targets or f"{_HL7_PREFIX}Resource" in targets:
        return None
    return tuple(t.removeprefix(_HL7_PREFIX) if t.startswith(_HL7_PREFIX) else t for t in targets)


def _node(definition: ElementDefinition) -> ElementNode:
    path = str(definition["path"])
    name = path.rsplit(".", 1)[-1]
    maximum = str(definition.get("max", "*"))
    binding = definition.get("binding", {})
    slicing = definition.get("slicing")
    node = ElementNode(
        definition=definition,
        name=name,
        invariants=tuple(compile_invariant(c) for c in definition.get("constraint", [])),
        minimum=int(definition.get("min", 0)),
        maximum=None if maximum == "*" else int(maximum),
        type_codes=tuple(str(t["code"]) for t in definition.get("type", [])),
        fixed=_typed_value(definition, "fixed"),
        pattern=_typed_value(definition, "pattern"),
        min_value=_number(definition, "minValue"),
        max_value=_number(definition, "maxValue"),
        required_value_set=binding.get("valueSet")
        if binding.get("strength") == "required"
        else None,
        reference_targets=_reference_targets(definition),
    )
    if node.is_choice:
        base_path = str(definition.get("base", {}).get("path", path))
        node.choice_suffixes = choice_types(base_path.removesuffix("[x]"))
    if slicing:
        node.discriminators = tuple(
            Discriminator(str(d["type"]), str(d["path"])) for d in slicing.get("discriminator", [])
        )
        unsupported = [d.type for d in node.discriminators if d.type not in ("pattern", "value")]
        if unsupported:
            raise ValueError(f"{node.id}: discriminator types {unsupported} are not supported")
        node.slicing_closed = slicing.get("rules") == "closed"
        node.slicing_ordered = bool(slicing.get("ordered"))
    return node


def element_tree(snapshot: Iterable[ElementDefinition]) -> ElementNode:
    """The root node of a snapshot; slices hang off the element they slice."""
    nodes: dict[str, ElementNode] = {}
    root: ElementNode | None = None
    for definition in snapshot:
        node = _node(definition)
        element_id = node.id
        parent_id, dot, last = element_id.rpartition(".")
        if not dot:
            root = node
        elif ":" in last:
            unsliced = nodes[f"{parent_id}.{last.split(':', 1)[0]}"]
            unsliced.slices.append(node)
        else:
            nodes[parent_id].children.append(node)
        nodes[element_id] = node
    if root is None:
        raise ValueError("the snapshot has no root element")
    return root
