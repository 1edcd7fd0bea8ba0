"""Reading a versioned JSON data file (a rule set, a candidacy policy): an unreadable or
non-JSON file is one problem naming the file, raised as the caller's error type."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from plugin.errors import InputProblemError, Problem

__all__ = ["read_json_file"]


def read_json_file(
    path: Path | str, *, what: str, error: Callable[[list[Problem]], InputProblemError]
) -> Any:
    """The decoded JSON of `path`; `what` names the file for a person ("policy file")."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise error([Problem("", "unreadable", f"cannot read {what} {source}: {reason}")]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        message = (
            f"{what} {source} is not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        )
        raise error([Problem("", "json", message)]) from None
