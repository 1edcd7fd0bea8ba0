"""Whether a save changes a signed study: compared as the study model reads it, so a form
posted back as it was shown (``7`` for 7.0, a time with its seconds added, spaces trimmed) is
the same study, and only a change a clinician made starts an amendment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugin.errors import InputProblemError
from plugin.study.validation import parse_study

__all__ = ["same_study"]


def same_study(posted: Mapping[str, Any], stored: Mapping[str, Any]) -> bool:
    """True when both are valid studies with the same values; a study that does not validate
    is never the same as one that does (a signed study always does)."""
    if posted == stored:
        return True
    try:
        ours, theirs = parse_study(posted).study, parse_study(stored).study
    except InputProblemError:
        return False
    # Compared as JSON values: a time's offset is kept (equal instants in different zones are
    # shown differently on the report), numbers are the model's numbers.
    return ours.model_dump(mode="json") == theirs.model_dump(mode="json")
