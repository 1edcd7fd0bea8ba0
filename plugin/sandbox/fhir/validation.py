"""Is a submitted resource valid FHIR R4? Checked with the `fhir.resources` R4B models (the
same structure as R4 for the types the sandbox serves) plus the required status bindings those
models do not check. Every problem found is reported, each naming its element.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from plugin.sandbox.fhir.outcome import FhirError, Issue, IssueType
from plugin.sandbox.fhir.search_parameters import RESOURCE_TYPES

__all__ = ["REQUIRED_CODES", "validate_resource"]

#: Elements bound to a FHIR R4 value set with binding strength "required", per type.
REQUIRED_CODES: dict[tuple[str, str], frozenset[str]] = {
    (owner, element): frozenset(codes.split())
    for owner, element, codes in (
        ("Observation", "status",
         "registered preliminary final amended corrected cancelled entered-in-error unknown"),
        ("DiagnosticReport", "status",
         "registered partial preliminary final amended corrected appended cancelled "
         "entered-in-error unknown"),
        ("Procedure", "status",
         "preparation in-progress not-done on-hold stopped completed entered-in-error unknown"),
        ("DocumentReference", "status", "current superseded entered-in-error"),
        ("DocumentReference", "docStatus", "preliminary final amended entered-in-error"),
        ("Encounter", "status",
         "planned arrived triaged in-progress onleave finished cancelled entered-in-error "
         "unknown"),
        ("MedicationRequest", "status",
         "active on-hold cancelled completed entered-in-error stopped draft unknown"),
        ("MedicationRequest", "intent",
         "proposal plan order original-order reflex-order filler-order instance-order option"),
        ("MedicationStatement", "status",
         "active completed entered-in-error intended stopped on-hold unknown not-taken"),
        ("ServiceRequest", "status",
         "draft active on-hold revoked completed entered-in-error unknown"),
        ("ServiceRequest", "intent",
         "proposal plan directive order original-order reflex-order filler-order "
         "instance-order option"),
        ("ImagingStudy", "status", "registered available cancelled entered-in-error unknown"),
        ("Patient", "gender", "male female other unknown"),
    )
}  # fmt: skip


def validate_resource(data: Any, expected_type: str | None, where: str = "") -> dict[str, Any]:
    """Return `data` if it is a valid resource of `expected_type` (any served type if None).

    `where` prefixes expressions (``Bundle.entry[2].resource``) for resources inside a
    Bundle. Raises `FhirError` 400 listing every problem.
    """
    if not isinstance(data, dict):
        raise FhirError.single(400, "structure", "the body must be a JSON object (a resource)")
    resource_type = data.get("resourceType")
    prefix = f"{where}." if where else ""
    if not isinstance(resource_type, str) or not resource_type:
        raise FhirError.single(
            400, "required", "resourceType is required", f"{prefix}resourceType".lstrip(".")
        )
    if expected_type is not None and resource_type != expected_type:
        raise FhirError.single(
            400,
            "invalid",
            f"resourceType is {resource_type!r} but this endpoint takes {expected_type}",
            f"{where or resource_type}.resourceType",
        )
    if resource_type not in RESOURCE_TYPES:
        raise FhirError.single(
            400 if where else 404,
            "not-supported",
            f"resource type {resource_type!r} is not supported by this server",
            f"{where or resource_type}.resourceType",
        )
    root = where or resource_type
    issues = _model_issues(resource_type, data, root)
    issues += _code_issues(resource_type, data, root)
    if issues:
        raise FhirError(400, issues)
    return data


def _model_issues(resource_type: str, data: dict[str, Any], root: str) -> list[Issue]:
    model = get_fhir_model_class(resource_type)
    try:
        model.model_validate(data)
    except ValidationError as exc:
        issues: list[Issue] = []
        for error in exc.errors():
            path = root + "".join(
                f"[{step}]" if isinstance(step, int) else f".{step}" for step in error["loc"]
            )
            code: IssueType = "required" if "missing" in error["type"] else "value"
            message = str(error["msg"]).removeprefix("Value error, ")
            issues.append(Issue(code, f"{path}: {message}", (path,)))
        return issues
    return []


def _code_issues(resource_type: str, data: dict[str, Any], root: str) -> list[Issue]:
    issues: list[Issue] = []
    for (owner, element), codes in REQUIRED_CODES.items():
        if owner != resource_type or element not in data:
            continue
        value = data[element]
        if value not in codes:
            issues.append(
                Issue(
                    "code-invalid",
                    f"{root}.{element}: {value!r} is not one of {', '.join(sorted(codes))}",
                    (f"{root}.{element}",),
                )
            )
    return issues
