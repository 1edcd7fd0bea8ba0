"""The study conclusion (shared/clinical.md §2c).

Definitions the conclusion rests on:

* A *concordant level* is a completed level whose response is concordant at the rule set's
  high intensity (its ``concordant`` and ``intensity`` criteria are met) — the responses that
  could make a level positive. Concordant pain below that intensity cannot, whatever the
  controls, so it does not make a study indeterminate.
* ``valid_control`` is true when some concordant level has at least one valid negative
  control under its own rule set (its ``controls`` are not empty). In a study with no
  concordant level it is true when any level had a valid negative control.
* Code: ``discogenic-level-identified`` when any level is positive (a positive level always
  has a valid control, so such a study always has ``valid_control``);
  ``indeterminate-no-valid-control`` when no level is positive and either every concordant
  level lacks a valid control or no level could be assessed at all (a study of failed
  injections is not a negative study); otherwise ``no-discogenic-level``.
"""

from __future__ import annotations

from collections.abc import Sequence

from plugin.interpretation.results import (
    CriterionStatus,
    LevelCategory,
    LevelResult,
    PositiveLevel,
    StudyConclusion,
    StudyConclusionCode,
)
from plugin.interpretation.summary import CATEGORY_WORDS, REASON_WORDS
from plugin.terminology import PRODUCT_CODE_SYSTEMS

__all__ = ["conclude", "is_concordant_level"]


def is_concordant_level(result: LevelResult) -> bool:
    """Concordant pain at the rule set's high intensity on a completed level."""
    status = {c.id: c.status for c in result.criteria}
    return all(
        status.get(name) is CriterionStatus.MET for name in ("completed", "concordant", "intensity")
    )


def conclude(results: Sequence[LevelResult]) -> StudyConclusion:
    """The conclusion over the level results (in anatomical order)."""
    positive = [r for r in results if r.positive]
    concordant = [r for r in results if is_concordant_level(r)]
    judged = concordant or list(results)
    valid_control = any(r.controls for r in judged)
    assessed = any(r.category is not LevelCategory.NOT_ASSESSABLE for r in results)
    if positive:
        code = StudyConclusionCode.DISCOGENIC_LEVEL_IDENTIFIED
    elif not assessed or (concordant and not valid_control):
        code = StudyConclusionCode.INDETERMINATE_NO_CONTROL
    else:
        code = StudyConclusionCode.NO_DISCOGENIC_LEVEL
    return StudyConclusion(
        code=code,
        positive_levels=tuple(PositiveLevel(level=r.level, category=r.category) for r in positive),
        valid_control=valid_control,
        text=_text(code, results, positive, concordant, assessed),
    )


def _text(
    code: StudyConclusionCode,
    results: Sequence[LevelResult],
    positive: Sequence[LevelResult],
    concordant: Sequence[LevelResult],
    assessed: bool,
) -> str:
    headline = PRODUCT_CODE_SYSTEMS["study-conclusion"].display(code.value)
    sentences: list[str] = []
    if positive:
        listed = ", ".join(f"{r.level} ({CATEGORY_WORDS[r.category]})" for r in positive)
        plural = "levels" if len(positive) > 1 else "level"
        sentences.append(f"Discogenic {plural} identified: {listed}.")
        controls = _ordered({c for r in positive for c in r.controls}, results)
        noun = "Negative control" if len(controls) == 1 else "Negative controls"
        sentences.append(f"{noun}: {', '.join(controls)}.")
    else:
        sentences.append(f"{headline}.")
        if code is StudyConclusionCode.INDETERMINATE_NO_CONTROL:
            if not assessed:
                sentences.append("No level could be assessed.")
            else:
                levels = ", ".join(r.level for r in concordant)
                sentences.append(f"Concordant pain at {levels} without a valid negative control.")
    indeterminate = [r for r in results if r.category is LevelCategory.INDETERMINATE]
    if indeterminate and not (code is StudyConclusionCode.INDETERMINATE_NO_CONTROL and assessed):
        listed = ", ".join(
            f"{r.level} ({REASON_WORDS.get(r.reason or '', 'indeterminate')})"
            for r in indeterminate
        )
        sentences.append(f"Indeterminate: {listed}.")
    not_assessable = [r for r in results if r.category is LevelCategory.NOT_ASSESSABLE]
    if not_assessable and assessed:
        sentences.append(f"Not assessable: {', '.join(r.level for r in not_assessable)}.")
    return " ".join(sentences)


def _ordered(levels: set[str], results: Sequence[LevelResult]) -> list[str]:
    """Control levels in the study's anatomical order."""
    order = {r.level: i for i, r in enumerate(results)}
    return sorted(levels, key=lambda name: order.get(name, len(order)))
