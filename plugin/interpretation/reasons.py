"""What each level reason (`LevelResult.reason`) means for the study conclusion.

A level that is not positive may still have been on its way to being positive: its response
was positive but no valid control was found, or a value its rule set needs was not recorded.
A study must not be called negative while such a level remains (shared/clinical.md §2c).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

__all__ = ["REASON_KINDS", "ReasonKind"]


class ReasonKind(StrEnum):
    NOT_COMPLETED = "not-completed"  # the injection was not completed: nothing to judge
    DATA_NOT_RECORDED = "data-not-recorded"  # with the missing value it could be positive
    NO_CONTROL = "no-control"  # the response is positive; only a valid control is missing
    EXCLUDED = "excluded"  # a recorded value rules the level out, whatever the controls


#: Every reason the methods give, by kind; a test checks each reason in words is listed here.
REASON_KINDS: Mapping[str, ReasonKind] = MappingProxyType(
    {
        "not-completed": ReasonKind.NOT_COMPLETED,
        "response-not-recorded": ReasonKind.DATA_NOT_RECORDED,
        "pressure-not-recorded": ReasonKind.DATA_NOT_RECORDED,
        "volume-not-recorded": ReasonKind.DATA_NOT_RECORDED,
        "annular-disruption-not-recorded": ReasonKind.DATA_NOT_RECORDED,
        "no-adjacent-control": ReasonKind.NO_CONTROL,
        "no-control": ReasonKind.NO_CONTROL,
        # A recorded Dallas grade below the threshold: cervical-triangulation calls the level
        # indeterminate (clinical.md §2b), yet no control could make it positive.
        "annular-disruption-missing": ReasonKind.EXCLUDED,
    }
)
