"""`discogram report STUDY.json --out BUNDLE.json`: validate, interpret, render and map a
study, and write its FHIR R4 transaction Bundle (and, on request, the HTML and PDF report).

Nothing is written unless every step succeeds, and each file is written to a temporary file
beside it and renamed into place, so a failure never leaves a half-written bundle. Validation
warnings go to stderr as ``warning: …`` lines; bad input exits 2 with the error lines on stderr
and nothing on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from plugin.cli import CliError
from plugin.cli.json_input import read_input, site_rule_sets
from plugin.fhir_mapping import map_study
from plugin.fhir_mapping.document_reference import DOCUMENT_TYPES
from plugin.fhir_mapping.readiness import require_reportable
from plugin.interpretation.engine import interpret_study
from plugin.report.render import render_report
from plugin.study.validation import study_from_json

__all__ = ["add_parser", "write_files_atomically"]

_PROG = "discogram report"


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write a study's FHIR transaction Bundle and its readable report",
        description="Validate and interpret a provocative discography study, render its "
        "report and write the FHIR R4 transaction Bundle that files it (Procedure, one "
        "Observation per level, DiagnosticReport, DocumentReference, Provenance).",
    )
    parser.add_argument("study", metavar="STUDY.json", type=Path, help="the study document")
    parser.add_argument(
        "--out", metavar="BUNDLE.json", type=Path, required=True, help="the Bundle to write"
    )
    parser.add_argument("--html", metavar="FILE", type=Path, help="also write the HTML report")
    parser.add_argument("--pdf", metavar="FILE", type=Path, help="also write the PDF report")
    parser.add_argument(
        "--rule-set-file",
        metavar="FILE",
        type=Path,
        action="append",
        default=[],
        help="a site rule-set file (repeatable); one with a shipped rule set's id replaces it",
    )
    parser.add_argument(
        "--document-type",
        choices=DOCUMENT_TYPES,
        default=DOCUMENT_TYPES[0],
        help="LOINC type of the DocumentReference: 18748-4 diagnostic imaging study "
        "(default) or 34121-4 interventional procedure note",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    outputs = _outputs(args)
    library = site_rule_sets(_PROG, args.rule_set_file)
    validated = study_from_json(read_input(_PROG, args.study, "study file"))
    for problem in validated.warnings:
        print(f"warning: {problem}", file=sys.stderr)
    study = validated.study
    interpretation = interpret_study(study, library)
    # Refuse an unfileable study (no patient, …) before the work of rendering it.
    require_reportable(study, interpretation)
    issued = _now()
    rendered = render_report(study, interpretation, issued=issued, warnings=validated.warnings)
    mapped = map_study(
        study,
        interpretation,
        rendered,
        issued=issued,
        document_type=args.document_type,
        library=library,
    )
    bundle = json.dumps(mapped.transaction_bundle(), indent=2, ensure_ascii=False) + "\n"
    contents = {outputs["bundle"]: bundle.encode("utf-8")}
    if "html" in outputs:
        contents[outputs["html"]] = rendered.html.encode("utf-8")
    if "pdf" in outputs:
        contents[outputs["pdf"]] = rendered.pdf
    write_files_atomically(contents)
    print(f"{outputs['bundle']}: transaction Bundle, {len(mapped.items())} resources")
    for kind in ("html", "pdf"):
        if kind in outputs:
            print(f"{outputs[kind]}: {kind.upper()} report")
    return 0


def _now() -> datetime:
    """When the report is issued: now, in the local time zone, to the second."""
    return datetime.now().astimezone().replace(microsecond=0)


def _outputs(args: argparse.Namespace) -> dict[str, Path]:
    outputs: dict[str, Path] = {"bundle": args.out}
    for kind in ("html", "pdf"):
        path = getattr(args, kind)
        if path is not None:
            outputs[kind] = path
    seen: dict[Path, str] = {args.study.resolve(): "the study file"}
    for kind, path in outputs.items():
        where = "--out" if kind == "bundle" else f"--{kind}"
        other = seen.get(path.resolve())
        if other is not None:
            raise CliError(f"{_PROG}: {where} {path} is also {other}; give each its own file")
        seen[path.resolve()] = where
    return outputs


def write_files_atomically(contents: Mapping[Path, bytes]) -> None:
    """Write each file to a temporary file in its folder (created if missing); only when all
    are written are they renamed into place. No file is ever left half-written, and none is
    replaced when another could not be written.

    The files hold patient data, so they are created readable by their owner only.
    """
    staged: list[tuple[Path, Path]] = []
    target: Path | None = None
    try:
        for target, data in contents.items():
            staged.append((_stage(target, data), target))
        for temporary, target in staged:
            os.replace(temporary, target)
    except OSError as exc:
        raise CliError(f"{_PROG}: cannot write {target}: {exc.strerror or exc}") from None
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)  # gone already once renamed into place


def _stage(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
    return temporary
