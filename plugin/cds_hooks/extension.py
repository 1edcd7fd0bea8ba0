"""The discography candidacy extension on a ServiceRequest: the outcome of the candidacy
assessment of that order, the policy (id and version) that produced it, the day it was made
for and the physician attestations it took into account.

It is a complex extension — FHIR's ext-1 allows an extension a value or sub-extensions, not
both — with the sub-extensions ``outcome`` (valueCode candidate | not-candidate |
needs-review), ``policy`` and ``policyVersion`` (valueString), ``assessedOn`` (valueDate) and
``attestation`` (valueCode, repeating: the policy's attestation ids). The CDS service proposes
it as a systemAction that adds it to the draft order and changes nothing else (the Argonaut
PAMA and Da Vinci CRD pattern), and reads attestations back from it on the next call.

`candidacy_extension_definition()` is the StructureDefinition published in `conformance/`;
`CANDIDACY_OUTCOME` the product CodeSystem its outcome is bound to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from plugin.candidacy.assessment import Assessment
from plugin.conformance.canonicals import (
    CONFORMANCE_DATE,
    CONFORMANCE_VERSION,
    PUBLISHER,
    base_definition_url,
    value_set_url,
)
from plugin.errors import Problem
from plugin.terminology import CANONICAL_BASE, PRODUCT_CODE_SYSTEMS

__all__ = [
    "CANDIDACY_EXTENSION_ID",
    "CANDIDACY_EXTENSION_URL",
    "CANDIDACY_OUTCOME",
    "attestations_on",
    "candidacy_extension",
    "candidacy_extension_definition",
    "extension_problems",
    "with_candidacy_extension",
]

CANDIDACY_EXTENSION_ID = "discography-candidacy"
CANDIDACY_EXTENSION_URL = f"{CANONICAL_BASE}/StructureDefinition/{CANDIDACY_EXTENSION_ID}"

#: Outcomes of a candidacy assessment (plugin.candidacy.assessment.Outcome), as product codes.
CANDIDACY_OUTCOME = PRODUCT_CODE_SYSTEMS["candidacy-outcome"]


def candidacy_extension(assessment: Assessment) -> dict[str, Any]:
    """The extension recording `assessment`."""
    parts: list[dict[str, Any]] = [
        {"url": "outcome", "valueCode": assessment.outcome.value},
        {"url": "policy", "valueString": assessment.policy.id},
        {"url": "policyVersion", "valueString": assessment.policy.version},
        {"url": "assessedOn", "valueDate": assessment.today.isoformat()},
    ]
    parts += [{"url": "attestation", "valueCode": a} for a in assessment.attestations]
    return {"url": CANDIDACY_EXTENSION_URL, "extension": parts}


def _ours(extension: Any) -> bool:
    return isinstance(extension, Mapping) and extension.get("url") == CANDIDACY_EXTENSION_URL


def _extension_list_problems(value: Any, path: str) -> list[Problem]:
    if not isinstance(value, list):
        return [Problem(path, "type", "must be an array of Extension objects")]
    return [
        Problem(f"{path}[{index}]", "type", "must be an Extension object with a url")
        for index, item in enumerate(value)
        if not isinstance(item, Mapping) or not isinstance(item.get("url"), str)
    ]


def extension_problems(resource: Mapping[str, Any], path: str) -> list[Problem]:
    """What in `resource`'s extensions this module could not read (FHIR JSON: an array of
    objects, each with a url; ours holds an array of sub-extensions), each named from `path`,
    the resource's place in the request."""
    if "extension" not in resource:
        return []
    extensions = resource["extension"]
    where = f"{path}.extension"
    if extensions is None:
        return [Problem(where, "not-null", "must not be null (leave the field out instead)")]
    problems = _extension_list_problems(extensions, where)
    if problems:
        return problems
    for index, extension in enumerate(extensions):
        if _ours(extension) and "extension" in extension:
            problems += _extension_list_problems(
                extension["extension"], f"{where}[{index}].extension"
            )
    return problems


def with_candidacy_extension(
    resource: Mapping[str, Any], extension: dict[str, Any]
) -> dict[str, Any]:
    """A copy of `resource` with `extension` in place of any earlier candidacy extension; every
    other element, and every other extension in its place, stays exactly as it was."""
    others = [e for e in resource.get("extension") or () if not _ours(e)]
    updated = dict(resource)
    updated["extension"] = [*others, extension]
    return updated


def attestations_on(resource: Mapping[str, Any], known: Iterable[str]) -> tuple[str, ...]:
    """Attestation ids recorded on the order's candidacy extension, limited to `known` (the
    policy's); sorted, each once."""
    allowed = set(known)
    found: set[str] = set()
    extensions = resource.get("extension")
    for extension in extensions if isinstance(extensions, list) else ():
        if not _ours(extension):
            continue
        for part in extension.get("extension") or ():
            if (
                isinstance(part, Mapping)
                and part.get("url") == "attestation"
                and part.get("valueCode") in allowed
            ):
                found.add(str(part["valueCode"]))
    return tuple(sorted(found))


def _slice(
    name: str, short: str, min_: int, max_: str, value: dict[str, Any]
) -> list[dict[str, Any]]:
    base = f"Extension.extension:{name}"
    return [
        {
            "id": base,
            "path": "Extension.extension",
            "sliceName": name,
            "short": short,
            "definition": short,
            "min": min_,
            "max": max_,
        },
        {"id": f"{base}.extension", "path": "Extension.extension.extension", "max": "0"},
        {"id": f"{base}.url", "path": "Extension.extension.url", "fixedUri": name},
        {"id": f"{base}.value[x]", "path": "Extension.extension.value[x]", "min": 1, **value},
    ]


def candidacy_extension_definition() -> dict[str, Any]:
    """The extension's StructureDefinition (FHIR R4 4.0.1), differential form."""
    elements: list[dict[str, Any]] = [
        {
            "id": "Extension",
            "path": "Extension",
            "short": "Discography candidacy of this order",
            "definition": (
                "The outcome of assessing the patient's candidacy for this discography order, "
                "the policy and version that produced it, when, and the physician attestations "
                "it took into account."
            ),
            "max": "1",
        },
        {
            "id": "Extension.extension",
            "path": "Extension.extension",
            "slicing": {
                "discriminator": [{"type": "value", "path": "url"}],
                "ordered": False,
                "rules": "closed",
            },
            "min": 3,
        },
        *_slice(
            "outcome",
            "candidate | not-candidate | needs-review",
            1,
            "1",
            {
                "type": [{"code": "code"}],
                "binding": {
                    "strength": "required",
                    "valueSet": value_set_url(CANDIDACY_OUTCOME.id),
                },
            },
        ),
        *_slice("policy", "Id of the candidacy policy", 1, "1", {"type": [{"code": "string"}]}),
        *_slice(
            "policyVersion",
            "Version of the candidacy policy",
            1,
            "1",
            {"type": [{"code": "string"}]},
        ),
        *_slice(
            "assessedOn", "Day the assessment was made for", 0, "1", {"type": [{"code": "date"}]}
        ),
        *_slice(
            "attestation",
            "A physician attestation the policy defines (its id), taken into account",
            0,
            "*",
            {"type": [{"code": "code"}]},
        ),
        {"id": "Extension.url", "path": "Extension.url", "fixedUri": CANDIDACY_EXTENSION_URL},
        {"id": "Extension.value[x]", "path": "Extension.value[x]", "max": "0"},
    ]
    return {
        "resourceType": "StructureDefinition",
        "id": CANDIDACY_EXTENSION_ID,
        "url": CANDIDACY_EXTENSION_URL,
        "version": CONFORMANCE_VERSION,
        "name": "DiscographyCandidacy",
        "title": "Discography candidacy",
        "status": "active",
        "experimental": False,
        "date": CONFORMANCE_DATE,
        "publisher": PUBLISHER,
        "description": (
            "Records on a discography ServiceRequest the outcome of the candidacy assessment "
            "(candidate, not-candidate, needs-review), the policy id and version, the day it "
            "was made for and the physician attestations it took into account. Added by the "
            "CDS service's systemAction without changing the order's meaning."
        ),
        "fhirVersion": "4.0.1",
        "kind": "complex-type",
        "abstract": False,
        "context": [{"type": "element", "expression": "ServiceRequest"}],
        "type": "Extension",
        "baseDefinition": base_definition_url("Extension"),
        "derivation": "constraint",
        "differential": {"element": elements},
    }
