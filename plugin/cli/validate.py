"""`discogram validate FILE.json`: check a FHIR resource or Bundle against FHIR R4 (4.0.1) and
the product's profiles (`conformance/`).

Valid: ``valid: <ResourceType> (<n> resources checked)`` on stdout, exit 0 (warnings, if any,
printed before it). Problems: one ``error: <path>: <message> [<rule>]`` line each on stdout,
exit 1. A file that cannot be read, is not JSON or is not a FHIR R4 resource: one line on
stderr, nothing on stdout, exit 2.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from plugin.cli import CliError
from plugin.conformance.r4_model import is_resource_type
from plugin.conformance.validator import Severity, count_resources, validate_resource

__all__ = ["add_parser", "read_resource"]

_PROG = "discogram validate"


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check a FHIR resource or Bundle against FHIR R4 and the product's profiles",
        description="Validate a FHIR R4 resource or Bundle (such as the one `discogram "
        "report` writes): the R4 base definitions, and the product's profiles for each "
        "resource whose meta.profile names one.",
    )
    parser.add_argument("file", metavar="FILE.json", type=Path, help="the resource to check")
    parser.set_defaults(handler=_run)


def read_resource(path: Path) -> dict[str, Any]:
    """The FHIR resource in `path`; CliError (exit 2) when it cannot be read, is not JSON or
    is not a FHIR R4 resource."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))  # FHIR JSON is UTF-8
    except OSError as exc:
        raise CliError(f"{_PROG}: cannot read {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise CliError(
            f"{_PROG}: {path} is not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})"
        ) from None
    except UnicodeDecodeError:
        raise CliError(f"{_PROG}: {path} is not UTF-8 text") from None
    resource_type = data.get("resourceType") if isinstance(data, dict) else None
    if not isinstance(resource_type, str):
        raise CliError(f"{_PROG}: {path} is not a FHIR resource (no resourceType)")
    if not is_resource_type(resource_type):
        raise CliError(
            f"{_PROG}: {path} is not a FHIR R4 resource ({resource_type!r} is not an R4 "
            "resource type)"
        )
    resource: dict[str, Any] = data
    return resource


def _run(args: argparse.Namespace) -> int:
    resource = read_resource(args.file)
    issues = validate_resource(resource)
    for issue in issues:
        print(issue)
    if any(issue.severity is Severity.ERROR for issue in issues):
        return 1
    print(f"valid: {resource['resourceType']} ({count_resources(resource)} resources checked)")
    return 0
