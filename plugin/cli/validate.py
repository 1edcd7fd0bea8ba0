"""`discogram validate FILE.json`: check a FHIR resource or Bundle against FHIR R4 (4.0.1) and
the product's profiles (`conformance/`).

Checked: the R4 structure (every element exists in R4, with its JSON type, no empty values),
cardinality, required elements and primitive formats, a subset of R4's base invariants, and
each product profile a resource's meta.profile names, with the bindings of those profiles.
Not checked: codes bound by R4 itself (Patient.gender, Quantity.comparator, a status no product
profile binds), because no R4 value set is available offline; the verdict says so.

Valid: ``valid: <ResourceType> (<n> resource(s) checked)`` on stdout and a ``note:`` line saying
what was not checked, exit 0 (warnings, if any, printed before it). Problems: one
``error: <path>: <message> [<rule>]`` line each on stdout, exit 1. A file that cannot be read,
is not JSON or is not a FHIR R4 resource: one line on stderr, nothing on stdout, exit 2.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from plugin.cli import CliError
from plugin.cli.json_input import JsonTooDeepError, loads
from plugin.conformance.r4_model import is_resource_type
from plugin.conformance.validator import Severity, count_resources, validate_resource

__all__ = ["NOT_CHECKED", "add_parser", "read_resource"]

_PROG = "discogram validate"


#: What a "valid" verdict does not cover: said with every verdict, so no one reads more into it.
NOT_CHECKED = (
    "note: codes are checked only where a product profile binds them; R4's own required "
    "bindings (such as Patient.gender, Quantity.comparator or a status no product profile "
    "binds) are not checked"
)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check a FHIR resource or Bundle: R4 structure and the product's profiles",
        description="Validate a FHIR R4 (4.0.1) resource or Bundle (such as the one `discogram "
        "report` writes). Checked: the R4 structure (every element exists in R4 with its JSON "
        "type, no empty values), cardinality, required elements and primitive formats, a "
        "subset of the R4 base invariants, and each product profile named in meta.profile "
        "with its slices, fixed values, invariants and bindings. Not checked: codes bound by "
        "R4 itself (such as Patient.gender, Quantity.comparator, or a status no product "
        "profile binds), as the R4 value sets are not available offline.",
    )
    parser.add_argument("file", metavar="FILE.json", type=Path, help="the resource to check")
    parser.set_defaults(handler=_run)


def read_resource(path: Path) -> dict[str, Any]:
    """The FHIR resource in `path`; CliError (exit 2) when it cannot be read, is not JSON or
    is not a FHIR R4 resource."""
    try:
        data = loads(path.read_bytes().decode("utf-8-sig"))  # FHIR JSON is UTF-8
    except JsonTooDeepError as exc:
        raise CliError(f"{_PROG}: {path}: {exc}") from None
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
    count = count_resources(resource)
    print(
        f"valid: {resource['resourceType']} ({count} resource{'s' if count != 1 else ''} checked)"
    )
    print(NOT_CHECKED)
    return 0
