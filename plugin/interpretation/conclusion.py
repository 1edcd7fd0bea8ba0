"""The study conclusion (shared/clinical.md §2c).

Definitions the conclusion rests on:

* A *concordant level* is a completed level whose response is concordant at the rule set's
  high intensity (its ``concordant`` and ``intensity`` criteria are met, clinical.md §2a/§2b),
  whatever its pressure, volume or Dallas grade. Concordant pain below that intensity cannot
  make a level positive, whatever the controls.
* A *candidate level* is a concordant level its own recorded values do not exclude: positive,
  or indeterminate only for want of a valid control or of a recorded value.
* ``valid_control`` is true when some candidate level has at least one valid negative control
  under its own rule set; with no candidate level, when some concordant level has one; with no
  concordant level, when any level had one. A level excluded by its own values does not lend
  its control to a candidate level, which still awaits its own.
* Code, the first that applies:
  ``discogenic-level-identified`` when any level is positive (a positive level always has a
  valid control, so such a study always has ``valid_control``);
  ``indeterminate-no-level-assessable`` when no injection was completed (a study of failed
  injections is not a negative study);
  ``indeterminate-no-valid-control`` when some level is concordant and ``valid_control`` is
  false: every concordant level lacks a valid control, whatever its pressure, volume or Dallas
  grade (clinical.md §2c: without a control, concordant pain cannot be read either way), or
  every candidate level does;
  ``indeterminate-data-not-recorded`` when a level could not be judged because a value its rule
  set needs was not recorded (with that value it might be positive, so the study is not
  negative);
  ``indeterminate-suspected-level-not-assessable`` when a suspected level (a disc the study was
  to test, as opposed to a control) was not completed: it is not assessable, not negative
  (clinical.md §1, §2a/§2b), and it may be the painful disc, so the study is not negative;
  otherwise ``no-discogenic-level``: every suspected level was judged, every assessable level is
  negative or excluded by its own recorded values, and the study has a valid control for its
  concordant pain, if any. A control disc that could not be entered does not stop a study of
  judged suspected levels from being negative: it was there only to validate a response.
"""

from __future__ import annotations

from collections.abc import Sequence

from plugin.interpretation.reasons import REASON_KINDS, ReasonKind
from plugin.interpretation.results import (
    CriterionStatus,
    LevelCategory,
    LevelResult,
    PositiveLevel,
    StudyConclusion,
    StudyConclusionCode,
)
from plugin.interpretation.summary import CATEGORY_WORDS, REASON_WORDS
from plugin.study.model import LevelRole
from plugin.terminology import PRODUCT_CODE_SYSTEMS

__all__ = ["conclude", "is_candidate_level", "is_concordant_level", "reason_kind"]

_Code = StudyConclusionCode


def is_concordant_level(result: LevelResult) -> bool:
    """Concordant pain at the rule set's high intensity on a completed level."""
    status = {c.id: c.status for c in result.criteria}
    return all(
        status.get(name) is CriterionStatus.MET for name in ("completed", "concordant", "intensity")
    )


def reason_kind(result: LevelResult) -> ReasonKind | None:
    """What the level's reason means for the study; None for a level without a reason."""
    if result.reason is None:
        return None
    kind = REASON_KINDS.get(result.reason)
    if kind is None:
        # Every reason a method gives is listed in REASON_KINDS (a test checks it); an unknown
        # one must not let a study pass as negative.
        raise ValueError(f"level reason {result.reason!r} has no kind in REASON_KINDS")
    return kind


def is_candidate_level(result: LevelResult) -> bool:
    """A concordant level that could be positive: positive, or indeterminate only for want of
    a valid control or of a recorded value."""
    if not is_concordant_level(result):
        return False
    if result.positive:
        return True
    return result.category is LevelCategory.INDETERMINATE and reason_kind(result) in (
        ReasonKind.NO_CONTROL,
        ReasonKind.DATA_NOT_RECORDED,
    )


def conclude(results: Sequence[LevelResult]) -> StudyConclusion:
    """The conclusion over the level results (in anatomical order)."""
    positive = [r for r in results if r.positive]
    concordant = [r for r in results if is_concordant_level(r)]
    candidates = [r for r in concordant if is_candidate_level(r)]
    valid_control = any(r.controls for r in (candidates or concordant or results))
    not_recorded = [r for r in results if _data_not_recorded(r)]
    suspected_not_assessable = [r for r in results if _suspected_not_assessable(r)]
    if positive:
        code = _Code.DISCOGENIC_LEVEL_IDENTIFIED
    elif all(r.category is LevelCategory.NOT_ASSESSABLE for r in results):
        code = _Code.INDETERMINATE_NO_LEVEL_ASSESSABLE
    elif concordant and not valid_control:
        code = _Code.INDETERMINATE_NO_CONTROL
    elif not_recorded:
        code = _Code.INDETERMINATE_DATA_NOT_RECORDED
    elif suspected_not_assessable:
        code = _Code.INDETERMINATE_SUSPECTED_NOT_ASSESSABLE
    else:
        code = _Code.NO_DISCOGENIC_LEVEL
    return StudyConclusion(
        code=code,
        positive_levels=tuple(PositiveLevel(level=r.level, category=r.category) for r in positive),
        valid_control=valid_control,
        text=_text(code, results, positive, concordant, not_recorded, suspected_not_assessable),
    )


def _data_not_recorded(result: LevelResult) -> bool:
    return (
        result.category is LevelCategory.INDETERMINATE
        and reason_kind(result) is ReasonKind.DATA_NOT_RECORDED
    )


def _suspected_not_assessable(result: LevelResult) -> bool:
    return result.role is LevelRole.SUSPECTED and result.category is LevelCategory.NOT_ASSESSABLE


def _text(
    code: StudyConclusionCode,
    results: Sequence[LevelResult],
    positive: Sequence[LevelResult],
    concordant: Sequence[LevelResult],
    not_recorded: Sequence[LevelResult],
    suspected: Sequence[LevelResult],
) -> str:
    headline = PRODUCT_CODE_SYSTEMS["study-conclusion"].display(code.value)
    sentences: list[str] = []
    explained: set[str] = set()  # indeterminate levels whose reason a sentence already gives
    if positive:
        listed = ", ".join(f"{r.level} ({CATEGORY_WORDS[r.category]})" for r in positive)
        plural = "levels" if len(positive) > 1 else "level"
        sentences.append(f"Discogenic {plural} identified: {listed}.")
        controls = _ordered({c for r in positive for c in r.controls}, results)
        noun = "Negative control" if len(controls) == 1 else "Negative controls"
        sentences.append(f"{noun}: {', '.join(controls)}.")
    else:
        sentences.append(f"{headline}.")
    if code is _Code.INDETERMINATE_NO_LEVEL_ASSESSABLE:
        sentences.append("No injection was completed, so no level could be judged.")
    elif code is _Code.INDETERMINATE_NO_CONTROL:
        # Only the concordant levels that lack a control: a level excluded by its own values may
        # have one while a candidate level has none.
        uncontrolled = [r for r in concordant if not r.controls]
        levels = ", ".join(r.level for r in uncontrolled)
        sentences.append(f"Concordant pain at {levels} without a valid negative control.")
        # A level indeterminate for another reason (a Dallas grade below the threshold, a
        # missing value) is still named below with that reason.
        explained = {r.level for r in uncontrolled if reason_kind(r) is ReasonKind.NO_CONTROL}
    elif code is _Code.INDETERMINATE_DATA_NOT_RECORDED:
        sentences.append(f"Could not be judged for missing data: {_with_reasons(not_recorded)}.")
        explained = {r.level for r in not_recorded}
    elif code is _Code.INDETERMINATE_SUSPECTED_NOT_ASSESSABLE:
        noun = "Suspected levels" if len(suspected) > 1 else "Suspected level"
        listed = ", ".join(f"{r.level} ({_technical_words(r)})" for r in suspected)
        sentences.append(
            f"{noun} not assessable: {listed}; the study cannot be called negative while a "
            "suspected disc is untested."
        )
        explained = {r.level for r in suspected}
    indeterminate = [
        r for r in results if r.category is LevelCategory.INDETERMINATE and r.level not in explained
    ]
    if indeterminate:
        sentences.append(f"Indeterminate: {_with_reasons(indeterminate)}.")
    not_assessable = [
        r
        for r in results
        if r.category is LevelCategory.NOT_ASSESSABLE and r.level not in explained
    ]
    if not_assessable and code is not _Code.INDETERMINATE_NO_LEVEL_ASSESSABLE:
        sentences.append(f"Not assessable: {', '.join(r.level for r in not_assessable)}.")
    return " ".join(sentences)


def _technical_words(result: LevelResult) -> str:
    """``"not entered"``, ``"aborted"``: the technical result the level's criteria recorded."""
    recorded = next(
        (c.values.get("technical_result") for c in result.criteria if c.id == "completed"), None
    )
    return str(recorded).replace("-", " ") if recorded else "not completed"


def _with_reasons(results: Sequence[LevelResult]) -> str:
    """``"L4-L5 (pressure not recorded), C5-C6 (Dallas grade not recorded)"``."""
    return ", ".join(
        f"{r.level} ({REASON_WORDS.get(r.reason or '', 'indeterminate')})" for r in results
    )


def _ordered(levels: set[str], results: Sequence[LevelResult]) -> list[str]:
    """Control levels in the study's anatomical order."""
    order = {r.level: i for i, r in enumerate(results)}
    return sorted(levels, key=lambda name: order.get(name, len(order)))
