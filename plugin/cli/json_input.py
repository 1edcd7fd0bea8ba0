"""Reading the JSON files given on the command line, with a limit on nesting.

A FHIR resource, a study or a rule set nests a few dozen levels at most (a Bundle entry's
resource, its extensions, a Questionnaire's items). Python's JSON reader and the checks after
it recurse once per level, so text nested thousands deep would end in a RecursionError: such a
file is bad input, refused by one line naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from plugin.cli import CliError
from plugin.errors import InputProblemError, Problem
from plugin.interpretation.rule_set import RuleSetLibrary, default_rule_sets

__all__ = ["MAX_NESTING", "JsonTooDeepError", "check_nesting", "loads", "nesting_depth"]

#: Deepest nesting of arrays and objects accepted; far beyond what FHIR or study JSON needs.
MAX_NESTING = 100


class JsonTooDeepError(ValueError):
    """The text nests arrays and objects deeper than `MAX_NESTING`."""

    def __init__(self) -> None:
        super().__init__(
            f"JSON nested more than {MAX_NESTING} levels deep; no FHIR resource, study or "
            "rule set nests that deeply"
        )


def nesting_depth(value: Any) -> int:
    """How deep arrays and objects nest in decoded JSON: 0 for a number, 1 for ``[1, 2]``.

    Walks with its own stack, so it never recurses however deep the value."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_NESTING:
            return deepest  # deep enough to refuse; no need to walk the rest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def loads(text: str | bytes) -> Any:
    """`json.loads`, raising `JsonTooDeepError` for nesting deeper than `MAX_NESTING`
    (`json.JSONDecodeError` and `UnicodeDecodeError` as usual)."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise JsonTooDeepError from None
    if nesting_depth(data) > MAX_NESTING:
        raise JsonTooDeepError
    return data


def check_nesting(path: Path, text: str | bytes) -> None:
    """Refuse the file at `path` (`InputProblemError` naming it) when `text` nests too deeply.

    Text that is not JSON at all is left to the reader of that file, which says where the
    syntax breaks."""
    try:
        loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return
    except JsonTooDeepError as exc:
        raise InputProblemError([Problem(str(path), "nesting", str(exc))], str(path)) from None


def read_input(prog: str, path: Path, what: str) -> bytes:
    """A JSON input file's bytes: an unreadable file is a usage error naming it (exit 2), and
    one nested too deep is refused before it is parsed."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise CliError(f"{prog}: cannot read {what} {path}: {exc.strerror}") from None
    check_nesting(path, text)
    return text


def site_rule_sets(prog: str, paths: list[Path]) -> RuleSetLibrary:
    """The shipped rule sets with the site's files (`--rule-set-file`): a missing file is a
    usage error naming it; the library names the file on every problem line."""
    for path in paths:
        read_input(prog, path, "rule-set file")
    return default_rule_sets().with_site_files(paths)
