"""Example instances of every profile, made by the product itself from the example study
(`plugin/examples/lumbar-three-level.json`): validated, interpreted, rendered and mapped exactly
as `discogram report` does, with a fixed issue time so the examples are reproducible.

Two forms: the transaction Bundle as the app sends it, and each resource as a server stores it
(with an id, and references between them as ``Type/id`` instead of ``urn:uuid``).
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from importlib.resources import files
from typing import Any

from plugin.fhir_mapping import MappedStudy, map_study
from plugin.interpretation.engine import interpret_study
from plugin.interpretation.rule_set import default_rule_sets
from plugin.report.render import render_report
from plugin.study.validation import study_from_json

__all__ = [
    "EXAMPLE_ISSUED",
    "EXAMPLE_SOFTWARE_VERSION",
    "EXAMPLE_STUDY",
    "example_mapping",
    "example_resources",
    "stored_form",
]

EXAMPLE_STUDY = "lumbar-three-level.json"
#: When the example report is issued: fixed, so that rebuilding gives the same bytes.
EXAMPLE_ISSUED = datetime(2026, 11, 20, 11, 5, tzinfo=timezone(timedelta(hours=-5)))
#: The product version the example Provenance names; fixed for the same reason.
EXAMPLE_SOFTWARE_VERSION = "0.1.0"


def example_mapping() -> MappedStudy:
    library = default_rule_sets()
    study = study_from_json(files("plugin.examples").joinpath(EXAMPLE_STUDY).read_bytes()).study
    interpretation = interpret_study(study, library)
    rendered = render_report(study, interpretation, issued=EXAMPLE_ISSUED)
    return map_study(
        study,
        interpretation,
        rendered,
        issued=EXAMPLE_ISSUED,
        software_version=EXAMPLE_SOFTWARE_VERSION,
        library=library,
    )


def _stored_id(resource: dict[str, Any]) -> str:
    """The server id an example gets: its identifier value (Provenance: its tag's code)."""
    identifiers = resource.get("identifier") or resource["meta"]["tag"]
    key = identifiers[0]
    return str(key.get("value") or key["code"])


def _rewrite_references(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            k: ids.get(v, v)
            if k == "reference" and isinstance(v, str)
            else _rewrite_references(v, ids)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_rewrite_references(item, ids) for item in value]
    return value


def stored_form(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The resources of a transaction Bundle as a server would store them."""
    entries = bundle["entry"]
    ids = {
        e["fullUrl"]: f"{e['resource']['resourceType']}/{_stored_id(e['resource'])}"
        for e in entries
    }
    stored = []
    for entry in entries:
        resource = copy.deepcopy(entry["resource"])
        resource = {
            "resourceType": resource.pop("resourceType"),
            "id": _stored_id(resource),
            **_rewrite_references(resource, ids),
        }
        stored.append(resource)
    return stored


def example_resources() -> list[dict[str, Any]]:
    """The example transaction Bundle, then each of its resources in stored form."""
    mapped = example_mapping()
    bundle = {
        "resourceType": "Bundle",
        "id": f"{mapped.identifiers.key}.transaction",
        **{k: v for k, v in mapped.transaction_bundle().items() if k != "resourceType"},
    }
    return [bundle, *stored_form(bundle)]
