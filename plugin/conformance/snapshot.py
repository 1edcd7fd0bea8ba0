"""Snapshot generation: a base resource's elements with a profile's differential merged in.

Works as the FHIR tooling does for the constructs the product's profiles use: constraining an
element (cardinality, type, fixed/pattern value, binding, invariants), slicing a repeating
element (each slice a copy of the element and its children), and constraining the children of
a datatype element, which are then listed under it (``….value[x].code``). A differential that
loosens the base or names an element that does not exist is a programming error: ValueError.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from plugin.conformance.base_elements import ElementDefinition, base_elements, datatype_children
from plugin.conformance.base_invariants import base_invariants

__all__ = ["build_snapshot", "in_specification_order"]

# ElementDefinition's own element order, used to write every element the way the spec lists it.
_KEY_ORDER = (
    "id",
    "extension",
    "path",
    "representation",
    "sliceName",
    "sliceIsConstraining",
    "label",
    "code",
    "slicing",
    "short",
    "definition",
    "comment",
    "requirements",
    "alias",
    "min",
    "max",
    "base",
    "contentReference",
    "type",
    "defaultValue",
    "meaningWhenMissing",
    "orderMeaning",
    "fixed",
    "pattern",
    "example",
    "minValue",
    "maxValue",
    "maxLength",
    "condition",
    "constraint",
    "mustSupport",
    "isModifier",
    "isModifierReason",
    "isSummary",
    "binding",
    "mapping",
)
_CHOICE_PREFIXES = ("defaultValue", "fixed", "pattern", "minValue", "maxValue")


def _rank(key: str) -> int:
    for prefix in _CHOICE_PREFIXES:
        if key.startswith(prefix):
            return _KEY_ORDER.index(prefix)
    return _KEY_ORDER.index(key) if key in _KEY_ORDER else len(_KEY_ORDER)


def in_specification_order(element: ElementDefinition) -> ElementDefinition:
    return {key: element[key] for key in sorted(element, key=_rank)}


def _max_value(maximum: str) -> float:
    return float("inf") if maximum == "*" else int(maximum)


def _ids(snapshot: list[ElementDefinition]) -> list[str]:
    return [element["id"] for element in snapshot]


def _block_end(ids: list[str], start: int) -> int:
    """Index after the element at `start`, its children and its slices."""
    prefix = ids[start]
    end = start + 1
    while end < len(ids) and ids[end].startswith((prefix + ".", prefix + ":")):
        end += 1
    return end


def _add_slice(snapshot: list[ElementDefinition], unsliced: int, element_id: str) -> int:
    ids = _ids(snapshot)
    sliced = snapshot[unsliced]
    if "slicing" not in sliced:
        raise ValueError(f"{element_id}: {sliced['id']} must declare slicing before its slices")
    prefix = sliced["id"]
    end = _block_end(ids, unsliced)
    # The slice starts as a copy of the element as profiled so far, without other slices.
    copies = [
        copy.deepcopy(snapshot[i])
        for i in range(unsliced, end)
        if ids[i] == prefix or ids[i].startswith(prefix + ".")
    ]
    for element in copies:
        element["id"] = element_id + element["id"][len(prefix) :]
    head = copies[0]
    del head["slicing"]
    head["sliceName"] = element_id.rsplit(":", 1)[1]
    head["min"] = 0  # a slice is optional unless the differential says otherwise
    snapshot[end:end] = copies
    return end


def _expand_datatype(snapshot: list[ElementDefinition], parent: int, element_id: str) -> None:
    element = snapshot[parent]
    codes = [t["code"] for t in element.get("type", [])]
    if not codes or codes[0] in ("BackboneElement", "Element") or codes[0][:1].islower():
        raise ValueError(f"{element_id}: no such element")  # children are listed already
    if len(codes) != 1:
        raise ValueError(
            f"{element_id}: cannot list children of {element['id']} (types {codes}); "
            "constrain it to one datatype first"
        )
    ids = _ids(snapshot)
    if parent + 1 < len(ids) and ids[parent + 1].startswith(element["id"] + "."):
        raise ValueError(f"{element_id}: no such element in {codes[0]}")
    snapshot[parent + 1 : parent + 1] = datatype_children(codes[0], element["path"], element["id"])


def _locate(snapshot: list[ElementDefinition], element_id: str) -> int:
    """Index of `element_id`, adding the slice or datatype children it needs."""
    ids = _ids(snapshot)
    if element_id in ids:
        return ids.index(element_id)
    parent_id, dot, last = element_id.rpartition(".")
    if not dot:
        raise ValueError(f"{element_id}: not an element of this resource type")
    name, _, slice_name = last.partition(":")
    if slice_name:
        return _add_slice(snapshot, _locate(snapshot, f"{parent_id}.{name}"), element_id)
    _expand_datatype(snapshot, _locate(snapshot, parent_id), element_id)
    ids = _ids(snapshot)
    if element_id not in ids:
        raise ValueError(f"{element_id}: no such element")
    return ids.index(element_id)


def _merge(current: ElementDefinition, change: ElementDefinition, source: str) -> ElementDefinition:
    merged = dict(current)
    where = change["id"]
    for key, value in change.items():
        if key in ("id", "path"):
            continue
        if key == "constraint":
            added = [{**c, "source": c.get("source", source)} for c in value]
            merged["constraint"] = [*current.get("constraint", []), *added]
        elif key == "type":
            allowed = {t["code"] for t in current.get("type", [])}
            if not {t["code"] for t in value} <= allowed:
                raise ValueError(f"{where}: types {value} are not among the base types {allowed}")
            merged["type"] = value
        elif key == "min" and value < current["min"]:
            raise ValueError(f"{where}: min {value} is below the base min {current['min']}")
        elif key == "max" and _max_value(value) > _max_value(current["max"]):
            raise ValueError(f"{where}: max {value} is above the base max {current['max']}")
        else:
            merged[key] = value
    if merged["min"] > _max_value(merged["max"]):
        raise ValueError(f"{where}: min {merged['min']} exceeds max {merged['max']}")
    return merged


def build_snapshot(
    type_name: str, differential: Iterable[ElementDefinition], source: str
) -> list[ElementDefinition]:
    """The snapshot of a profile on `type_name`: every base element, in order, with the
    differential applied; `source` (the profile's URL) is recorded on the invariants it adds."""
    snapshot = base_elements(type_name)
    invariants = [inv.as_constraint() for inv in base_invariants(type_name)]
    if invariants:
        snapshot[0]["constraint"] = invariants
    for change in differential:
        index = _locate(snapshot, change["id"])
        snapshot[index] = _merge(snapshot[index], change, source)
    return [in_specification_order(element) for element in snapshot]
