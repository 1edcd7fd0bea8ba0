"""Reading a FHIR JSON element whose JSON type may be wrong: an EHR's odd data is read as
absent, not as a crash (plugin.candidacy.chart checks only the elements that decide whether a
record counts; see its docstring)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["repeating"]

_ABSENT: tuple[Any, ...] = ()


def repeating(value: object) -> Sequence[Any]:
    """A repeating element (FHIR JSON serializes one as an array) as its items; absent, null or
    any other JSON type as no items."""
    if type(value) is list or isinstance(value, list):
        return value
    return _ABSENT
