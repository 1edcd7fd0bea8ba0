"""How a tested level is marked in the report: positive, negative, control, indeterminate or
not assessable — always with a colour, a symbol and a word, never colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from plugin.interpretation.results import LevelCategory, LevelResult
from plugin.study.model import LevelRole

__all__ = ["MARK_STYLES", "LevelMark", "MarkStyle", "level_mark"]


class LevelMark(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    CONTROL = "control"
    INDETERMINATE = "indeterminate"
    NOT_ASSESSABLE = "not-assessable"


@dataclass(frozen=True, slots=True)
class MarkStyle:
    label: str  # legend wording
    symbol: str  # drawn inside the marker, so the mark survives greyscale printing
    shape: str  # "circle", "square", "diamond" or "cross-square"
    colour: str  # dark enough for white symbols (WCAG contrast ≥ 4.5:1)


# Okabe–Ito hues, darkened so a white symbol on them keeps 4.5:1 contrast.
MARK_STYLES: dict[LevelMark, MarkStyle] = {
    LevelMark.POSITIVE: MarkStyle("Positive (POS)", "+", "circle", "#b3261e"),
    LevelMark.NEGATIVE: MarkStyle("Negative (NEG)", "−", "circle", "#0b5394"),
    LevelMark.CONTROL: MarkStyle("Control level (negative)", "C", "square", "#0f6b4f"),
    LevelMark.INDETERMINATE: MarkStyle("Indeterminate (IND)", "?", "diamond", "#8a5000"),
    LevelMark.NOT_ASSESSABLE: MarkStyle("Not assessable (IND)", "×", "cross-square", "#5f5f5f"),
}


def level_mark(role: LevelRole, result: LevelResult) -> LevelMark:
    """The mark of a level. A control disc that gave pain keeps the mark of its result:
    a failed control must not look like a clean one."""
    if result.category is LevelCategory.NOT_ASSESSABLE:
        return LevelMark.NOT_ASSESSABLE
    if result.positive:
        return LevelMark.POSITIVE
    if result.category is LevelCategory.INDETERMINATE:
        return LevelMark.INDETERMINATE
    if role is LevelRole.CONTROL:
        return LevelMark.CONTROL
    return LevelMark.NEGATIVE
