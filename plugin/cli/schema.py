"""`discogram schema`: the JSON Schema of a study document."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from plugin.study.model import Study

__all__ = ["add_parser", "study_json_schema"]


def study_json_schema() -> dict[str, Any]:
    schema = Study.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Provocative discography study"
    # The model's docstring is written for programmers; the schema is read by clinicians too.
    schema["description"] = (
        "One provocative discography procedure: the discs injected with what was measured and "
        "what the patient reported, and the procedure's context. A field left out or null is "
        "empty: not measured or not recorded (never 0 for unknown). Validation also checks "
        "rules across fields, such as the pressure at pain onset not being below the opening "
        "pressure."
    )
    return schema


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("schema", help="print the JSON Schema of a study document")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    json.dump(study_json_schema(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0
