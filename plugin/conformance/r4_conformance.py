"""Checks that a resource is valid FHIR R4 (4.0.1) JSON, whatever profile it claims.

Two passes: a walk of the JSON against the R4 model (every element exists in R4, has the JSON
type R4 prescribes, is not empty or null, and names one type of a choice element), then a parse
with fhir.resources' R4B model for cardinality, required elements and primitive formats.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from plugin.conformance.issues import Severity, ValidationIssue
from plugin.conformance.r4_model import (
    ElementKind,
    R4Element,
    choice_stem,
    element_in_r4,
    is_resource_type,
    json_kind,
)

__all__ = ["check_r4"]

_JSON_NAMES: dict[Any, str] = {bool: "true or false", int: "a whole number", str: "a JSON string"}


def _error(issues: list[ValidationIssue], path: str, message: str, rule: str) -> None:
    issues.append(ValidationIssue(Severity.ERROR, path, message, rule))


def _check_primitive(
    issues: list[ValidationIssue], element: R4Element, value: Any, path: str, has_extension: bool
) -> None:
    if value is None:
        if not has_extension:  # null only holds a place for an extension in a primitive list
            _error(issues, path, "null is not allowed in FHIR JSON", "json")
        return
    kind = json_kind(element.type_code)
    if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
        expected = _JSON_NAMES.get(kind, "a JSON number")
        _error(
            issues,
            path,
            f"must be {expected} ({element.type_code} in FHIR R4), found {type(value).__name__}",
            "json",
        )
    elif value == "":
        _error(issues, path, "must not be an empty string", "ele-1")


def _walk_object(
    issues: list[ValidationIssue], obj: Mapping[str, Any], context: str, path: str
) -> None:
    if not obj:
        _error(issues, path, "must not be empty: FHIR JSON has no empty elements", "ele-1")
        return
    choices: dict[str, list[str]] = {}
    for key, value in obj.items():
        name = key[1:] if key.startswith("_") else key
        element = element_in_r4(context, name)
        child_path = f"{path}.{key}"
        if element is None:
            _error(
                issues,
                child_path,
                f"{name!r} is not an element of {context} in FHIR R4 (4.0.1)",
                "r4-element",
            )
            continue
        stem = choice_stem(element.path)
        if stem is not None and not key.startswith("_"):
            choices.setdefault(stem, []).append(key)
        if key.startswith("_") and element.kind is not ElementKind.PRIMITIVE:
            _error(issues, child_path, f"only primitives take '_{name}' extensions", "json")
            continue
        _walk_value(issues, element, key, value, child_path, f"_{key}" in obj)
    for stem, keys in choices.items():
        if len(keys) > 1:
            _error(
                issues,
                f"{path}.{stem.rsplit('.', 1)[-1]}[x]",
                f"only one of {', '.join(keys)} may be present",
                "choice",
            )


def _walk_value(
    issues: list[ValidationIssue],
    element: R4Element,
    key: str,
    value: Any,
    path: str,
    has_extension: bool,
) -> None:
    if isinstance(value, list):
        if not value:
            _error(issues, path, "must not be an empty array", "ele-1")
        items = [(f"{path}[{i}]", item) for i, item in enumerate(value)]
    else:
        items = [(path, value)]
    for item_path, item in items:
        if key.startswith("_"):
            if item is not None:
                _walk_dict(issues, item, "Element", item_path)
        elif element.kind is ElementKind.PRIMITIVE:
            _check_primitive(issues, element, item, item_path, has_extension)
        elif element.kind is ElementKind.RESOURCE:
            if _is_object(issues, item, item_path):
                _walk_resource(issues, item, item_path)
        else:
            assert element.children_context is not None
            _walk_dict(issues, item, element.children_context, item_path)


def _is_object(issues: list[ValidationIssue], value: Any, path: str) -> bool:
    if isinstance(value, dict):
        return True
    _error(issues, path, f"must be a JSON object, found {type(value).__name__}", "json")
    return False


def _walk_dict(issues: list[ValidationIssue], value: Any, context: str, path: str) -> None:
    if _is_object(issues, value, path):
        _walk_object(issues, value, context, path)


def _walk_resource(issues: list[ValidationIssue], resource: Mapping[str, Any], path: str) -> None:
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str) or not is_resource_type(resource_type):
        _error(
            issues,
            path,
            f"resourceType {resource_type!r} is not a FHIR R4 (4.0.1) resource type",
            "resource-type",
        )
        return
    content = {key: value for key, value in resource.items() if key != "resourceType"}
    if content:  # a resource may be bare; its elements may not be empty
        _walk_object(issues, content, resource_type, path)


def _loc_path(path: str, loc: tuple[int | str, ...]) -> str:
    parts = [path]
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            name = f"_{item[:-5]}" if item.endswith("__ext") else item
            parts.append(f".{name}")
    return "".join(parts)


def _model_issues(
    resource: Mapping[str, Any], path: str, reported: set[str]
) -> list[ValidationIssue]:
    """What the R4B model rejects, leaving out what the R4 walk has already said."""
    model = get_fhir_model_class(str(resource["resourceType"]))
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        issues = []
        for error in exc.errors(include_url=False):
            where = _loc_path(path, error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            if (
                error["type"] == "extra_forbidden"  # the walk names unknown elements
                or message.startswith("Any of one field value is expected")  # and choices
                or any(where == p or where.startswith((p + ".", p + "[")) for p in reported)
            ):
                continue
            if error["type"].endswith("missing"):
                message = f"{where.rsplit('.', 1)[-1]} is required in FHIR R4"
                rule = "min-cardinality"
            else:
                rule = "r4-datatype"
            issues.append(ValidationIssue(Severity.ERROR, where, message, rule))
        return issues
    return []


def check_r4(resource: Mapping[str, Any], path: str) -> list[ValidationIssue]:
    """Every way `resource` (found at `path`, e.g. ``Bundle.entry[2].resource``) breaks the
    FHIR R4 JSON format and base definitions; contained and bundled resources included."""
    issues: list[ValidationIssue] = []
    _walk_resource(issues, resource, path)
    if any(issue.rule == "resource-type" and issue.path == path for issue in issues):
        return issues
    reported = {issue.path for issue in issues}
    return issues + _model_issues(resource, path, reported)
