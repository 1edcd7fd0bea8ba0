"""`discogram candidacy CHART.json`: assess a patient's candidacy for discography and print
the assessment as JSON.

CHART.json is a FHIR Bundle (any type) or a JSON list of resources. The order comes from
``--order ORDER.json`` (a ServiceRequest, or ``{"region": "lumbar", "levels": ["L4-L5"]}``),
else from an open discography ServiceRequest in the chart, else it is unknown. Attestations the
physician gives are named with ``--attest`` (comma-separated, repeatable). ``--today`` fixes
the assessment date (default: the local date). Bad input — an unreadable file, text that is not
JSON, a chart that is not a Bundle or list, an unknown attestation, a bad date, an invalid
policy file — exits 2 with one line per problem on stderr and nothing on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from plugin.candidacy import (
    Assessment,
    assess_candidacy,
    chart_from_json,
    default_policy,
    load_policy,
    order_from_json,
    parse_attestations,
)
from plugin.candidacy.chart import Chart, ChartInvalidError
from plugin.candidacy.order import Order, order_in_chart
from plugin.candidacy.policy import Policy
from plugin.cli import CliError
from plugin.cli.json_input import JsonTooDeepError, check_nesting, loads
from plugin.errors import InputProblemError, Problem

__all__ = ["add_parser", "assessment_json"]

_PROG = "discogram candidacy"
T = TypeVar("T")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "candidacy",
        help="assess a patient's candidacy for discography from a FHIR chart",
        description="Assess candidacy for provocative discography at referral: outcome, each "
        "criterion with its chart evidence, and the pre-procedure safety items, as JSON.",
    )
    parser.add_argument(
        "chart", metavar="CHART.json", type=Path, help="a FHIR Bundle or a JSON list of resources"
    )
    parser.add_argument(
        "--order",
        metavar="ORDER.json",
        type=Path,
        help='a discography ServiceRequest, or {"region": "lumbar", "levels": ["L4-L5"]}',
    )
    parser.add_argument(
        "--attest",
        metavar="ID[,ID]",
        action="append",
        default=[],
        help="attestations given by the physician: imaging-inconclusive, decision-hinges",
    )
    parser.add_argument(
        "--policy-file", metavar="FILE", type=Path, help="a site policy replacing the default"
    )
    parser.add_argument(
        "--today", metavar="YYYY-MM-DD", help="the date of the assessment (default: today)"
    )
    parser.set_defaults(handler=_run)


def assessment_json(assessment: Assessment) -> dict[str, Any]:
    """The printed document: the assessment without empty fields."""
    document: dict[str, Any] = assessment.model_dump(mode="json", exclude_none=True)
    return document


def _run(args: argparse.Namespace) -> int:
    # Every independent input is checked before any output, so all problems show at once.
    problems: list[Problem] = []

    def checked(read: Callable[[], T]) -> T | None:
        try:
            return read()
        except InputProblemError as exc:
            problems.extend(exc.problems)
            return None

    today = checked(lambda: _today(args.today))
    policy = checked(lambda: _policy(args.policy_file))
    attestations = checked(lambda: parse_attestations(args.attest, policy)) if policy else None
    chart = checked(lambda: _in_file(args.chart, lambda: _chart(args.chart)))
    order: Order | None = None
    if args.order is not None:
        order = checked(lambda: _in_file(args.order, lambda: order_from_json(_json(args.order))))
    if problems:
        raise InputProblemError(problems, "input")
    assert today is not None and policy is not None and chart is not None
    assessment = assess_candidacy(
        chart,
        today=today,
        order=order if args.order is not None else order_in_chart(chart),
        attestations=attestations or (),
        policy=policy,
    )
    json.dump(assessment_json(assessment), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def _today(text: str | None) -> date:
    if text is None:
        return date.today()  # the CLI is an edge: the engine itself never reads the clock
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputProblemError(
            [Problem("--today", "date", f"must be a date such as 2025-06-15 (got {text!r})")],
            "arguments",
        ) from None


def _chart(path: Path) -> Chart:
    """The chart in `path`. Bad entries are one line, counting them and naming the first: a
    CDS prefetch of thousands of resources must not print thousands of lines."""
    try:
        return chart_from_json(_json(path))
    except ChartInvalidError as exc:
        raise ChartInvalidError([_first_of(exc.problems)]) from None


def _first_of(problems: list[Problem]) -> Problem:
    if len(problems) == 1:
        return problems[0]
    # A problem's field starts with its entry: "entry[3].resource.status", "Observation/x.subject".
    entries = len({problem.field.split(".")[0] for problem in problems})
    first = problems[0]
    what = f"{entries} entries are bad" if entries > 1 else f"{len(problems)} problems in one entry"
    return Problem("", first.rule, f"{what}; the first: {first}")


def _policy(path: Path | None) -> Policy:
    if path is None:
        return default_policy()
    with contextlib.suppress(OSError):  # an unreadable file is named by `load_policy`
        check_nesting(path, path.read_bytes())
    return _in_file(path, lambda: load_policy(path))


def _in_file(path: Path, read: Callable[[], T]) -> T:
    """Run `read`, naming the file on every problem line: the message alone does not say
    which of the files given was at fault."""
    try:
        return read()
    except InputProblemError as exc:
        raise InputProblemError([_named(path, p) for p in exc.problems], str(path)) from None


def _named(path: Path, problem: Problem) -> Problem:
    if str(path) in problem.field or str(path) in problem.message:
        return problem
    field = f"{path}: {problem.field}" if problem.field else str(path)
    return Problem(field, problem.rule, problem.message)


def _json(path: Path) -> Any:
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise CliError(f"{_PROG}: cannot read {path}: {exc.strerror}") from None
    try:
        return loads(text)
    except JsonTooDeepError as exc:
        raise InputProblemError([Problem("", "nesting", str(exc))], str(path)) from None
    except json.JSONDecodeError as exc:
        raise InputProblemError(
            [
                Problem(
                    "", "json", f"not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
                )
            ],
            str(path),
        ) from None
    except UnicodeDecodeError:
        raise InputProblemError([Problem("", "json", "not UTF-8 text")], str(path)) from None
