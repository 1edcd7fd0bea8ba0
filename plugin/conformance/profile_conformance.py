"""Checks an instance against a profile's snapshot, element by element.

Generic over any StructureDefinition the package holds: cardinality, choice types, fixed and
pattern values, min/max values, required bindings to ValueSets the package can expand,
reference targets, slices (by pattern or value discriminators, with their order and rules) and
invariants.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from plugin.conformance.element_tree import Discriminator, ElementNode
from plugin.conformance.issues import Severity, ValidationIssue
from plugin.conformance.package import ConformancePackage, StructureProfile

__all__ = ["ReferenceResolver", "check_profile", "matches_pattern"]

#: Finds the resource a reference points at (in a Bundle, by fullUrl); None when unknown.
ReferenceResolver = Callable[[str], Mapping[str, Any] | None]

_LITERAL_REFERENCE = re.compile(
    r"^(?:https?://\S+/)?(?P<type>[A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(?:/_history/\S+)?$"
)


def matches_pattern(value: Any, pattern: Any) -> bool:
    """FHIR pattern semantics: every property of the pattern is in the value with the same
    content; each item of a pattern list matches some item of the value's list."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            key in value and matches_pattern(value[key], expected)
            for key, expected in pattern.items()
        )
    if isinstance(pattern, list):
        items = value if isinstance(value, list) else [value]
        return all(any(matches_pattern(item, p) for item in items) for p in pattern)
    if isinstance(pattern, bool) or isinstance(value, bool):
        return value is pattern
    return bool(value == pattern)


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= 120 else text[:117] + "…"


@dataclass(frozen=True, slots=True)
class _Occurrence:
    key: str  # the JSON name: "valueQuantity"
    path: str
    value: Any  # None when only a primitive's extension (``_name``) is present


@dataclass(slots=True)
class _Walk:
    package: ConformancePackage
    resource: Mapping[str, Any]
    resolve: ReferenceResolver | None
    issues: list[ValidationIssue] = field(default_factory=list)

    def report(
        self, path: str, message: str, rule: str, severity: Severity = Severity.ERROR
    ) -> None:
        self.issues.append(ValidationIssue(severity, path, message, rule))


def _occurrences(
    walk: _Walk, node: ElementNode, obj: Mapping[str, Any], path: str
) -> list[_Occurrence]:
    if node.is_choice:
        stem = node.name[:-3]
        keys = [k for k in obj if k.startswith(stem) and k[len(stem) :] in node.choice_suffixes]
        allowed = {code[:1].upper() + code[1:] for code in node.type_codes}
        for key in keys:
            if key[len(stem) :] not in allowed:
                walk.report(
                    f"{path}.{key}",
                    f"type {key[len(stem) :]} is not allowed here; the profile allows "
                    f"{', '.join(node.type_codes)}",
                    "type",
                )
    else:
        keys = [node.name] if node.name in obj else []
        if not keys and f"_{node.name}" in obj:  # a primitive given only an extension
            extension = obj[f"_{node.name}"]
            count = len(extension) if isinstance(extension, list) else 1
            return [_Occurrence(node.name, f"{path}.{node.name}", None) for _ in range(count)]
    found = []
    for key in keys:
        value = obj[key]
        if isinstance(value, list):
            found += [_Occurrence(key, f"{path}.{key}[{i}]", item) for i, item in enumerate(value)]
        else:
            found.append(_Occurrence(key, f"{path}.{key}", value))
    return found


def _check_cardinality(walk: _Walk, node: ElementNode, count: int, path: str, what: str) -> None:
    if count < node.minimum:
        walk.report(
            path,
            f"{what} is required (at least {node.minimum}), found {count}",
            "min-cardinality",
        )
    if node.maximum is not None and count > node.maximum:
        message = (
            f"{what} is not allowed by the profile"
            if node.maximum == 0
            else f"{what} allows at most {node.maximum}, found {count}"
        )
        walk.report(path, message, "max-cardinality")


def _at(value: Any, path: str) -> list[Any]:
    """Values at a simple dotted path (a discriminator's path) inside `value`."""
    values = [value]
    if path == "$this":
        return values
    for name in path.split("."):
        found: list[Any] = []
        for item in values:
            if isinstance(item, dict) and name in item:
                inner = item[name]
                found += inner if isinstance(inner, list) else [inner]
        values = found
    return values


def _slice_element(slice_node: ElementNode, path: str) -> ElementNode | None:
    node: ElementNode | None = slice_node
    if path != "$this":
        for name in path.split("."):
            node = node.child(name) if node else None
    return node


def _in_slice(
    slice_node: ElementNode, value: Any, discriminators: tuple[Discriminator, ...]
) -> bool:
    for discriminator in discriminators:
        target = _slice_element(slice_node, discriminator.path)
        if target is None:
            return False
        expected = target.fixed or target.pattern
        if expected is None:
            return False
        actual = _at(value, discriminator.path)
        if target.fixed is not None:
            if expected[1] not in actual:
                return False
        elif not any(matches_pattern(item, expected[1]) for item in actual):
            return False
    return True


def _check_slices(
    walk: _Walk, node: ElementNode, occurrences: list[_Occurrence], path: str
) -> None:
    assigned: list[int | None] = []
    for occurrence in occurrences:
        index = next(
            (
                i
                for i, slice_node in enumerate(node.slices)
                if _in_slice(slice_node, occurrence.value, node.discriminators)
            ),
            None,
        )
        assigned.append(index)
        if index is None and node.slicing_closed:
            walk.report(
                occurrence.path,
                "matches none of the profile's slices ("
                + ", ".join(str(s.definition.get("sliceName")) for s in node.slices)
                + ") and the slicing is closed",
                "slicing-closed",
            )
    if node.slicing_ordered:
        positions = [(i, a) for i, a in enumerate(assigned) if a is not None]
        for (_, before), (position, after) in itertools.pairwise(positions):
            if after < before:
                walk.report(
                    occurrences[position].path,
                    f"{node.slices[after].label} comes after {node.slices[before].label}; "
                    "the profile fixes the order",
                    "slice-order",
                )
                break
    for index, slice_node in enumerate(node.slices):
        count = sum(1 for a in assigned if a == index)
        _check_cardinality(walk, slice_node, count, path, f"slice {slice_node.label}")
    for occurrence, index in zip(occurrences, assigned, strict=True):
        _check_item(walk, node.slices[index] if index is not None else node, occurrence)


def _check_children(walk: _Walk, node: ElementNode, obj: Mapping[str, Any], path: str) -> None:
    for child in node.children:
        occurrences = _occurrences(walk, child, obj, path)
        where = f"{path}.{child.name}"
        if child.maximum == 0 and occurrences:
            where = occurrences[0].path
        if len({o.key for o in occurrences}) < 2:  # two types of one choice: the R4 check says so
            _check_cardinality(walk, child, len(occurrences), where, child.name)
        if child.slices:
            _check_slices(walk, child, occurrences, where)
        else:
            for occurrence in occurrences:
                _check_item(walk, child, occurrence)


def _check_binding(walk: _Walk, node: ElementNode, value: Any, path: str) -> None:
    assert node.required_value_set is not None
    codes = walk.package.value_set_codes(node.required_value_set)
    if codes is None:
        return  # a ValueSet the package cannot expand; nothing to check against
    where = f"ValueSet {node.required_value_set} (required binding)"
    if isinstance(value, str):
        if value not in {code for _, code in codes}:
            walk.report(path, f"code {value!r} is not in {where}", "required-binding")
        return
    if not isinstance(value, dict):
        return
    codings = value.get("coding", []) if "CodeableConcept" in node.type_codes else [value]
    if not isinstance(codings, list):
        return
    given = [
        (str(c.get("system", "")), str(c.get("code", ""))) for c in codings if isinstance(c, dict)
    ]
    if not given:
        walk.report(path, f"has no coding; one from {where} is required", "required-binding")
    elif not any(pair in codes for pair in given):
        shown = ", ".join(f"{system}|{code}" for system, code in given)
        walk.report(path, f"{shown} is not in {where}", "required-binding")


def _reference_type(walk: _Walk, reference: str) -> tuple[str | None, Mapping[str, Any] | None]:
    """(resource type, resolved resource) of a reference, as far as they can be known."""
    if walk.resolve is not None:
        target = walk.resolve(reference)
        if target is not None:
            return str(target.get("resourceType")), target
    match = _LITERAL_REFERENCE.match(reference)
    return (match.group("type"), None) if match else (None, None)


def _check_reference(walk: _Walk, node: ElementNode, value: Any, path: str) -> None:
    reference = value.get("reference") if isinstance(value, dict) else None
    if node.reference_targets is None or not isinstance(reference, str):
        return
    kind, target = _reference_type(walk, reference)
    if kind is None:
        return  # contained (#id), logical or unresolvable here: the bundle check reports those
    profiles = walk.package.profiles
    allowed = {profiles[t].type if t in profiles else t for t in node.reference_targets}
    if kind not in allowed:
        walk.report(
            f"{path}.reference",
            f"must point at {' or '.join(sorted(allowed))}, not {kind}",
            "reference-target",
        )
        return
    wanted = [t for t in node.reference_targets if t in profiles and profiles[t].type == kind]
    if (
        target is not None
        and wanted
        and not (set(wanted) & set(target.get("meta", {}).get("profile", [])))
    ):
        walk.report(
            f"{path}.reference",
            f"must point at a resource conforming to {' or '.join(wanted)}",
            "reference-target",
        )


def _check_value_range(walk: _Walk, node: ElementNode, value: Any, path: str) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return
    if node.min_value is not None and value < node.min_value:
        walk.report(path, f"{value:g} is below the minimum {node.min_value:g}", "min-value")
    if node.max_value is not None and value > node.max_value:
        walk.report(path, f"{value:g} is above the maximum {node.max_value:g}", "max-value")


def _check_item(walk: _Walk, node: ElementNode, occurrence: _Occurrence) -> None:
    value, path = occurrence.value, occurrence.path
    if value is None:
        return
    if node.fixed is not None and value != node.fixed[1]:
        walk.report(path, f"must be {_shown(node.fixed[1])} (found {_shown(value)})", "fixed-value")
    if node.pattern is not None and not matches_pattern(value, node.pattern[1]):
        walk.report(path, f"must match the pattern {_shown(node.pattern[1])}", "pattern")
    _check_value_range(walk, node, value, path)
    if node.required_value_set is not None:
        _check_binding(walk, node, value, path)
    _check_reference(walk, node, value, path)
    if node.invariants and isinstance(value, dict):
        type_path = node.fhirpath_type(occurrence.key)
        for invariant in node.invariants:
            holds = invariant.holds(value, type_path, walk.resource)
            if holds is None:
                walk.report(
                    path,
                    f"invariant cannot be evaluated on this content: {invariant.human}",
                    invariant.key,
                )
            elif not holds:
                walk.report(path, invariant.human, invariant.key, invariant.severity)
    if node.children and isinstance(value, dict):
        _check_children(walk, node, value, path)


def check_profile(
    resource: Mapping[str, Any],
    profile: StructureProfile,
    package: ConformancePackage,
    path: str,
    resolve: ReferenceResolver | None = None,
) -> list[ValidationIssue]:
    """Every way `resource` (found at `path`) breaks `profile`."""
    walk = _Walk(package, resource, resolve)
    resource_type = resource.get("resourceType")
    if resource_type != profile.type:
        walk.report(
            path,
            f"declares profile {profile.url}, which is for {profile.type}, not {resource_type}",
            "profile-type",
        )
        return walk.issues
    _check_item(walk, profile.root, _Occurrence(str(resource_type), path, resource))
    return walk.issues
