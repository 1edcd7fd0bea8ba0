"""`conformance/README.md`: what the package holds and how to regenerate it, written from the
resources themselves so that it cannot drift from them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from plugin.conformance.canonicals import CONFORMANCE_VERSION
from plugin.terminology import CANONICAL_BASE

__all__ = ["package_readme"]

_SECTIONS = (
    ("StructureDefinition", "Profiles"),
    ("CodeSystem", "CodeSystems"),
    ("ValueSet", "ValueSets"),
    ("CapabilityStatement", "CapabilityStatement"),
)


def _file(resource: dict[str, Any], folder: str = "") -> str:
    return f"{folder}{resource['resourceType']}-{resource['id']}.json"


def _row(resource: dict[str, Any]) -> str:
    title = resource.get("title") or resource.get("name") or resource["id"]
    return f"| [`{_file(resource)}`]({_file(resource)}) | {title} | `{resource['url']}` |"


def _example_row(resource: dict[str, Any]) -> str:
    profiles = resource.get("meta", {}).get("profile", [])
    shows = (
        f"transaction Bundle, {len(resource.get('entry', []))} entries"
        if resource["resourceType"] == "Bundle"
        else ", ".join(f"`{p.rsplit('/', 1)[-1]}`" for p in profiles)
    )
    name = _file(resource, "examples/")
    return f"| [`{name}`]({name}) | {shows} |"


def package_readme(resources: Sequence[dict[str, Any]], examples: Sequence[dict[str, Any]]) -> str:
    lines = [
        "# Conformance package",
        "",
        f"FHIR R4 (4.0.1) conformance resources of the discography plugin, version "
        f"{CONFORMANCE_VERSION}, canonical base `{CANONICAL_BASE}`. No ImplementationGuide: "
        "each file is one resource, named `<ResourceType>-<id>.json`.",
        "",
        "**Generated — do not edit.** Every file here, this README included, is written by",
        "",
        "    .venv/bin/python -m plugin.conformance.build           # regenerate",
        "    .venv/bin/python -m plugin.conformance.build --check   # list stale files, exit 1",
        "    .venv/bin/python -m plugin.conformance.build --all     # also refresh the examples' "
        "report",
        "",
        "from the Python in `plugin/conformance/` (profiles: `plugin/conformance/profiles/`, "
        "one module per profile; codes: `plugin/terminology.py` and "
        "`mappings/standard-codes.json`). A test fails when the files and the generator "
        "disagree.",
        "",
        "Snapshots are generated too: the base R4 elements come from the fhir.resources R4B "
        "models, checked against fhirpathpy's R4 model so that no element R4 lacks appears.",
        "",
        "Validate an instance or a Bundle against R4 and these profiles:",
        "",
        "    .venv/bin/discogram validate FILE.json",
        "",
    ]
    for resource_type, heading in _SECTIONS:
        chosen = [r for r in resources if r["resourceType"] == resource_type]
        if not chosen:
            continue
        lines += [f"## {heading}", "", "| file | title | canonical |", "|---|---|---|"]
        lines += [_row(r) for r in chosen]
        lines.append("")
    lines += [
        "## Examples",
        "",
        "Made by the product from `plugin/examples/lumbar-three-level.json` (validated, "
        "interpreted, rendered and mapped as `discogram report` does, issue time fixed). "
        "The Bundle is what the app sends; the other files are its resources as a server "
        "stores them (with ids, references as `Type/id`). The attachments hold the report as "
        "rendered when the examples were last built; the up-to-date check ignores them, as "
        "they change with the report's wording rather than with the FHIR shapes.",
        "",
        "| file | shows |",
        "|---|---|",
        *(_example_row(r) for r in examples),
        "",
    ]
    return "\n".join(lines)
