"""Validates FHIR resources and Bundles: FHIR R4 (4.0.1) first, then the product's profiles.

    issues = validate_resource(resource)      # a Bundle is validated as one, entries included
    errors = [i for i in issues if i.severity is Severity.ERROR]

A resource is checked against every product profile its meta.profile names, from the
StructureDefinitions in `conformance/` (loaded once); a resource naming none is checked against
R4 and its base invariants. In a Bundle, each entry is validated, fullUrls must be unique and
every ``urn:uuid`` reference must resolve to an entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from plugin.conformance.base_invariants import base_invariants
from plugin.conformance.fhirpath_invariants import CompiledInvariant, compile_invariant
from plugin.conformance.issues import Severity, ValidationIssue
from plugin.conformance.package import ConformancePackage, default_package
from plugin.conformance.profile_conformance import ReferenceResolver, check_profile
from plugin.conformance.r4_conformance import check_r4
from plugin.conformance.r4_model import is_resource_type
from plugin.terminology import CANONICAL_BASE

__all__ = [
    "Severity",
    "ValidationIssue",
    "count_resources",
    "validate_bundle",
    "validate_resource",
]

_UUID_URN = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_LOCAL_URN = ("urn:uuid:", "urn:oid:")


@cache
def _compiled_base_invariants(resource_type: str) -> tuple[CompiledInvariant, ...]:
    return tuple(compile_invariant(i.as_constraint()) for i in base_invariants(resource_type))


def _root_path(resource: Mapping[str, Any]) -> str:
    resource_type = resource.get("resourceType")
    return resource_type if isinstance(resource_type, str) and resource_type else "(resource)"


def _is_r4_resource(resource: Mapping[str, Any]) -> bool:
    resource_type = resource.get("resourceType")
    return isinstance(resource_type, str) and is_resource_type(resource_type)


def _declared_profiles(resource: Mapping[str, Any]) -> list[str]:
    meta = resource.get("meta")
    profiles = meta.get("profile") if isinstance(meta, dict) else None
    return [p for p in profiles if isinstance(p, str)] if isinstance(profiles, list) else []


def _conformance(
    resource: Mapping[str, Any],
    path: str,
    package: ConformancePackage,
    resolve: ReferenceResolver | None,
) -> list[ValidationIssue]:
    """Profile checks for each product profile declared; base invariants otherwise."""
    issues: list[ValidationIssue] = []
    ours = []
    for url in _declared_profiles(resource):
        if url in package.profiles:
            ours.append(package.profiles[url])
        elif url.startswith(CANONICAL_BASE):
            issues.append(
                ValidationIssue(
                    Severity.ERROR,
                    f"{path}.meta.profile",
                    f"unknown product profile {url}",
                    "profile",
                )
            )
        else:
            issues.append(
                ValidationIssue(
                    Severity.INFORMATION,
                    f"{path}.meta.profile",
                    f"profile {url} is not in the product's package; checked against FHIR R4 only",
                    "profile",
                )
            )
    for profile in ours:
        issues += check_profile(resource, profile, package, path, resolve)
    if not ours:
        for invariant in _compiled_base_invariants(str(resource["resourceType"])):
            holds = invariant.holds(resource, str(resource["resourceType"]), resource)
            if holds is False:
                issues.append(
                    ValidationIssue(invariant.severity, path, invariant.human, invariant.key)
                )
    return issues


def validate_resource(
    resource: Mapping[str, Any], *, package: ConformancePackage | None = None
) -> list[ValidationIssue]:
    """Every issue found in `resource`; an empty list means valid. Bundles go to
    `validate_bundle`. `package` defaults to the product's `conformance/`."""
    if resource.get("resourceType") == "Bundle":
        return validate_bundle(resource, package=package)
    path = _root_path(resource)
    issues = check_r4(resource, path)
    if not _is_r4_resource(resource):
        return issues
    return issues + _conformance(resource, path, package or default_package(), None)


def _references(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, reference) of every Reference.reference inside `value`."""
    if isinstance(value, dict):
        reference = value.get("reference")
        if isinstance(reference, str):
            yield f"{path}.reference", reference
        for key, inner in value.items():
            yield from _references(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _references(item, f"{path}[{index}]")


def _entry_issues(entry: Mapping[str, Any], path: str, bundle_type: Any) -> list[ValidationIssue]:
    issues = []

    def error(where: str, message: str, rule: str) -> None:
        issues.append(ValidationIssue(Severity.ERROR, where, message, rule))

    full_url = entry.get("fullUrl")
    if isinstance(full_url, str):
        if full_url.startswith("urn:uuid:") and not _UUID_URN.match(full_url):
            error(f"{path}.fullUrl", f"{full_url} is not a valid urn:uuid (RFC 4122)", "full-url")
        if "/_history/" in full_url:
            error(f"{path}.fullUrl", "fullUrl cannot be a version specific reference", "bdl-8")
    if not any(key in entry for key in ("resource", "request", "response")):
        error(path, "must have a resource unless it's a request or response", "bdl-5")
    request = entry.get("request")
    resource = entry.get("resource")
    if bundle_type == "transaction" and isinstance(request, dict) and isinstance(resource, dict):
        url = request.get("url")
        if (
            request.get("method") == "POST"
            and isinstance(url, str)
            and url.split("?", 1)[0] != resource.get("resourceType")
        ):
            error(
                f"{path}.request.url",
                f"a create (POST) goes to the resource type {resource.get('resourceType')}, "
                f"not {url!r}",
                "transaction",
            )
    return issues


def validate_bundle(
    bundle: Mapping[str, Any], *, package: ConformancePackage | None = None
) -> list[ValidationIssue]:
    """Every issue in a Bundle and its entries."""
    package = package or default_package()
    path = _root_path(bundle)
    issues = check_r4(bundle, path)
    issues += _conformance(bundle, path, package, None)
    raw_entries = bundle.get("entry")
    entries = (
        [e if isinstance(e, dict) else {} for e in raw_entries]
        if isinstance(raw_entries, list)
        else []
    )
    by_full_url: dict[str, int] = {}
    for index, entry in enumerate(entries):
        full_url = entry.get("fullUrl")
        if isinstance(full_url, str):
            if full_url in by_full_url:
                issues.append(
                    ValidationIssue(
                        Severity.ERROR,
                        f"{path}.entry[{index}].fullUrl",
                        f"{full_url} is also the fullUrl of entry[{by_full_url[full_url]}]; "
                        "fullUrls must be unique in a Bundle",
                        "bdl-7",
                    )
                )
            else:
                by_full_url[full_url] = index

    def resolve(reference: str) -> Mapping[str, Any] | None:
        index = by_full_url.get(reference)
        resource = entries[index].get("resource") if index is not None else None
        return resource if isinstance(resource, dict) else None

    for index, entry in enumerate(entries):
        entry_path = f"{path}.entry[{index}]"
        issues += _entry_issues(entry, entry_path, bundle.get("type"))
        resource = entry.get("resource")
        if not isinstance(resource, dict) or not _is_r4_resource(resource):
            continue  # check_r4 has reported it
        resource_path = f"{entry_path}.resource"
        issues += _conformance(resource, resource_path, package, resolve)
        for where, reference in _references(resource, resource_path):
            if reference.startswith(_LOCAL_URN) and reference not in by_full_url:
                issues.append(
                    ValidationIssue(
                        Severity.ERROR,
                        where,
                        f"{reference} does not resolve to an entry of this Bundle",
                        "bundle-reference",
                    )
                )
    return issues


def count_resources(resource: Mapping[str, Any]) -> int:
    """How many resources `validate_resource` checks: the resource, plus a Bundle's entries."""
    entries = resource.get("entry") if resource.get("resourceType") == "Bundle" else None
    if not isinstance(entries, list):
        return 1
    return 1 + sum(
        1 for e in entries if isinstance(e, dict) and isinstance(e.get("resource"), dict)
    )
