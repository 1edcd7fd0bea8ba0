"""`discogram interpret STUDY.json`: interpret a study and print the result as JSON.

Validation warnings go into the JSON and, as ``warning: …`` lines, to stderr. Bad input (an
unreadable file, an invalid study or rule-set file, an unknown rule set) exits 2 with the
error lines on stderr and nothing on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from plugin.cli.json_input import read_input, site_rule_sets
from plugin.errors import Problem
from plugin.interpretation.engine import interpret_study
from plugin.interpretation.results import StudyInterpretation
from plugin.study.validation import study_from_json

__all__ = ["add_parser", "interpretation_json"]


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "interpret",
        help="interpret a study with the rule sets and print the result as JSON",
        description="Interpret a provocative discography study: category per level with the "
        "criteria met and failed, and the study conclusion.",
    )
    parser.add_argument("study", metavar="STUDY.json", type=Path, help="the study document")
    parser.add_argument(
        "--rule-set-file",
        metavar="FILE",
        type=Path,
        action="append",
        default=[],
        help="a site rule-set file (repeatable); one with a shipped rule set's id replaces it",
    )
    parser.set_defaults(handler=_run)


def interpretation_json(
    interpretation: StudyInterpretation, warnings: tuple[Problem, ...] = ()
) -> dict[str, Any]:
    """The printed document: rule sets, levels, conclusion and validation warnings."""
    levels: list[dict[str, Any]] = []
    for result in interpretation.levels:
        entry = result.model_dump(mode="json", exclude={"rule_set"})
        entry["rule_set"] = result.rule_set.id
        if result.pressure_sensitivity is None:
            del entry["pressure_sensitivity"]  # not defined for this level or rule set
        levels.append(entry)
    return {
        "rule_sets": [ref.model_dump(mode="json") for ref in interpretation.rule_sets],
        "levels": levels,
        "conclusion": interpretation.conclusion.model_dump(mode="json"),
        "warnings": [str(problem) for problem in warnings],
    }


def _run(args: argparse.Namespace) -> int:
    library = site_rule_sets("discogram interpret", args.rule_set_file)
    validated = study_from_json(read_input("discogram interpret", args.study, "study file"))
    interpretation = interpret_study(validated.study, library)
    for problem in validated.warnings:
        print(f"warning: {problem}", file=sys.stderr)
    json.dump(
        interpretation_json(interpretation, validated.warnings),
        sys.stdout,
        indent=2,
        ensure_ascii=False,
    )
    sys.stdout.write("\n")
    return 0
