"""The sentences a report reads: one per level, built from the level's judged criteria."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from plugin.interpretation.criterion import painful, shown, technical_words
from plugin.interpretation.results import CriterionResult, CriterionStatus, LevelCategory
from plugin.study.model import Level

__all__ = ["CATEGORY_WORDS", "REASON_WORDS", "level_summary"]

CATEGORY_WORDS: Mapping[LevelCategory, str] = MappingProxyType(
    {
        LevelCategory.DEFINITE: "definite",
        LevelCategory.HIGHLY_PROBABLE: "highly probable",
        LevelCategory.PROBABLE: "probable",
        LevelCategory.POSITIVE: "positive",
        LevelCategory.NEGATIVE: "negative",
        LevelCategory.INDETERMINATE: "indeterminate",
        LevelCategory.NOT_ASSESSABLE: "not assessable",
    }
)

#: What each `LevelResult.reason` means, in words.
REASON_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "not-completed": "injection not completed",
        "response-not-recorded": "pain response or intensity not recorded",
        "pressure-not-recorded": "pressure not recorded",
        "volume-not-recorded": "volume at pain onset not recorded",
        "no-adjacent-control": "no adjacent negative control",
        "no-control": "no painless control level",
        "annular-disruption-missing": "no annular disruption at the required grade",
        "annular-disruption-not-recorded": "Dallas grade not recorded",
    }
)

# The criterion whose explanation says why a level is indeterminate for each reason.
_REASON_CRITERION = {
    "response-not-recorded": ("concordant", "intensity"),
    "pressure-not-recorded": ("low-pressure",),
    "volume-not-recorded": ("onset-volume",),
    "no-adjacent-control": ("adjacent-control",),
    "no-control": ("control",),
    "annular-disruption-missing": ("annular-disruption",),
    "annular-disruption-not-recorded": ("annular-disruption",),
}
_RESPONSE_CRITERIA = ("concordant", "intensity", "low-pressure", "onset-volume")


def level_summary(
    level: Level,
    category: LevelCategory,
    reason: str | None,
    criteria: Sequence[CriterionResult],
    controls: Sequence[str],
) -> str:
    """``"L4-L5: probable — concordant pain 8/10 at ΔP 22 psi; negative control L3-L4."``"""
    head = f"{level.level}: {CATEGORY_WORDS[category]}"
    if category is LevelCategory.NOT_ASSESSABLE:
        return f"{head} — the injection was {technical_words(level)}."
    if category is LevelCategory.NEGATIVE:
        if not painful(level):
            return f"{head} — no pain was provoked."
        failed = [
            _clause(c.explanation)
            for c in criteria
            if c.id in _RESPONSE_CRITERIA and c.status is CriterionStatus.FAILED
        ]
        return f"{head} — {'; '.join(failed)}."
    if category is LevelCategory.INDETERMINATE:
        wanted = _REASON_CRITERION.get(reason or "", ())
        why = [
            _clause(c.explanation)
            for c in criteria
            if c.id in wanted and c.status is not CriterionStatus.MET
        ]
        words = REASON_WORDS.get(reason or "", "a criterion is not met")
        return f"{head} ({words}) — {'; '.join([_pain(level), *why])}."
    grade = f", Dallas grade {level.dallas_grade}" if level.dallas_grade is not None else ""
    noun = "negative control" if len(controls) == 1 else "negative controls"
    return f"{head} — {_pain(level)}{grade}; {noun} {', '.join(controls)}."


def _pain(level: Level) -> str:
    response = level.pain_response.value if level.pain_response is not None else "unrecorded"
    intensity = f" {level.pain_intensity}/10" if level.pain_intensity is not None else ""
    delta_p = level.delta_p_psi
    where = f" at ΔP {shown(delta_p)} psi" if delta_p is not None else " (ΔP not recorded)"
    return f"{response} pain{intensity}{where}"


def _clause(sentence: str) -> str:
    """A criterion's sentence as a clause: no capital, no full stop."""
    text = sentence.rstrip(".")
    return text[:1].lower() + text[1:] if text[1:2].islower() or text[1:2] == " " else text
