"""Generates every file in `conformance/`: ``python -m plugin.conformance.build``.

    python -m plugin.conformance.build            # rewrite conformance/
    python -m plugin.conformance.build --check    # exit 1, naming the files, if any is stale
    python -m plugin.conformance.build --all      # rewrite all, the examples' report included

The files are never edited by hand: a test fails when they differ from what this writes.
The examples' attachments (the rendered report) are left out of that comparison: they follow
the report's wording and the installed fonts, not the FHIR shapes.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from plugin.cds_hooks.extension import candidacy_extension_definition
from plugin.conformance.capability_statement import capability_statement
from plugin.conformance.code_systems import code_system_resources
from plugin.conformance.examples import example_resources
from plugin.conformance.package_readme import package_readme
from plugin.conformance.profiles import all_profiles
from plugin.conformance.snapshot import build_snapshot
from plugin.conformance.structure_definition import structure_definition
from plugin.conformance.value_sets import value_set_resources
from plugin.resources import conformance_dir

__all__ = [
    "conformance_resources",
    "generated_files",
    "main",
    "resource_file_name",
    "stale_files",
    "write",
]

EXAMPLES = "examples"
README = "README.md"


def resource_file_name(resource: dict[str, Any]) -> str:
    """``<ResourceType>-<id>.json``."""
    return f"{resource['resourceType']}-{resource['id']}.json"


def conformance_resources() -> list[dict[str, Any]]:
    """The package's definitional resources, in the order the README lists them."""
    return [
        *(structure_definition(profile) for profile in all_profiles()),
        _with_snapshot(candidacy_extension_definition()),
        *code_system_resources(),
        *value_set_resources(),
        capability_statement(),
    ]


def _with_snapshot(definition: dict[str, Any]) -> dict[str, Any]:
    """A differential-only StructureDefinition (written outside this package) with its
    generated snapshot."""
    elements = build_snapshot(
        definition["type"], definition["differential"]["element"], definition["url"]
    )
    return {**definition, "snapshot": {"element": elements}}


def _json_text(resource: dict[str, Any]) -> str:
    return json.dumps(resource, indent=2, ensure_ascii=False) + "\n"


def generated_files() -> dict[str, str]:
    """Every file of `conformance/` by its path relative to it, with its exact content."""
    resources = conformance_resources()
    examples = example_resources()
    files = {resource_file_name(r): _json_text(r) for r in resources}
    files |= {f"{EXAMPLES}/{resource_file_name(r)}": _json_text(r) for r in examples}
    files[README] = package_readme(resources, examples)
    return files


def _existing(directory: Path) -> set[str]:
    """The generated kinds of file already in `directory`: its JSON, its examples, README."""
    found = {p.name for p in directory.glob("*.json")}
    found |= {f"{EXAMPLES}/{p.name}" for p in (directory / EXAMPLES).glob("*.json")}
    if (directory / README).exists():
        found.add(README)
    return found


_RENDERED = ("data", "size", "hash")


def _without_renderings(value: Any) -> Any:
    """`value` with the content of its attachments blanked out. The example report's HTML,
    PDF and text follow the report renderer's wording and layout (and the PDF the installed
    fonts), which change for reasons of their own; the FHIR shapes around them are compared
    exactly."""
    if isinstance(value, dict):
        attachment = "contentType" in value and "data" in value
        return {
            k: "(rendered)" if attachment and k in _RENDERED else _without_renderings(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_without_renderings(item) for item in value]
    return value


def _same(name: str, written: str, generated: str) -> bool:
    if written == generated:
        return True
    if not name.startswith(f"{EXAMPLES}/"):
        return False
    try:
        return bool(
            _without_renderings(json.loads(written)) == _without_renderings(json.loads(generated))
        )
    except json.JSONDecodeError:
        return False


def stale_files(directory: Path, files: dict[str, str]) -> list[str]:
    """Files that differ from `files` (examples: apart from their rendered attachments), are
    missing, or should no longer be there."""
    stale = []
    for name, text in files.items():
        path = directory / name
        if not path.exists() or not _same(name, path.read_text(encoding="utf-8"), text):
            stale.append(name)
    stale += sorted(_existing(directory) - set(files))
    return stale


def write(directory: Path, files: dict[str, str], *, everything: bool = False) -> list[str]:
    """Bring `directory` in line with `files`; returns what changed. Only stale files are
    rewritten unless `everything` (then the examples' renderings are refreshed too)."""
    changed = stale_files(directory, files)
    if everything:
        changed = sorted(set(changed) | set(files))
    for name in changed:
        path = directory / name
        if name in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(files[name], encoding="utf-8")
        else:
            path.unlink()  # a resource that is no longer generated
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m plugin.conformance.build",
        description="Regenerate the FHIR conformance package in conformance/.",
    )
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if any file is stale"
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="rewrite every file, refreshing the examples' rendered report too",
    )
    parser.add_argument(
        "--dir", type=Path, default=None, help="the folder to write (default: conformance/)"
    )
    args = parser.parse_args(argv)
    directory: Path = args.dir or conformance_dir()
    files = generated_files()
    if args.check:
        stale = stale_files(directory, files)
        for name in stale:
            print(f"stale: {directory / name}", file=sys.stderr)
        if stale:
            print("run: python -m plugin.conformance.build", file=sys.stderr)
        return 1 if stale else 0
    changed = write(directory, files, everything=args.all)
    print(f"{directory}: {len(files)} files, {len(changed)} written or removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
