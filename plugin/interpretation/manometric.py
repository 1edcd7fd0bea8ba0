"""The manometric adjacent-control method (shared/clinical.md §2a; rule set lumbar-manometric).

A positive level response (concordant, high intensity, low ΔP, small volume) becomes
definite, highly probable or probable according to its ΔP and to how many of the discs
immediately above and below it are negative controls. Whether a disc is a valid control is
decided by its response, not by the role recorded for it: a "control" disc that hurts is none,
and a painless "suspected" disc is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from plugin.interpretation import criterion
from plugin.interpretation.level_result import level_result
from plugin.interpretation.results import (
    CriterionResult,
    CriterionStatus,
    CriterionValue,
    LevelCategory,
    LevelResult,
)
from plugin.interpretation.rule_set import ManometricRuleSet
from plugin.study.levels import adjacent_levels
from plugin.study.model import Level, PainResponse

__all__ = ["CRITERION_IDS", "interpret_manometric"]

#: Every criterion a manometric level result lists, in report order.
CRITERION_IDS = (
    "completed",
    "concordant",
    "intensity",
    "low-pressure",
    "onset-volume",
    "adjacent-control",
    "very-low-pressure",
    "all-adjacent-controls",
)


@dataclass(frozen=True, slots=True)
class _Neighbour:
    """An adjacent disc judged as a negative control for the target."""

    level: str
    verdict: str  # machine-readable: "negative-control", "not-tested", "concordant-pain", …
    sentence: str  # "L3-L4 is a negative control (painless)"

    @property
    def is_control(self) -> bool:
        return self.verdict == "negative-control"

    @property
    def undecided(self) -> bool:
        """A value needed to judge it was not recorded."""
        return self.verdict in ("pressure-not-recorded", "response-not-recorded")


def interpret_manometric(
    level: Level, study_levels: Mapping[str, Level], rule_set: ManometricRuleSet
) -> LevelResult:
    """Judge one level; `study_levels` are all levels of the study by name (the neighbours)."""
    thresholds = rule_set.thresholds
    limits = dict(rule_set.delta_p_limits)  # the same limits the report's charts draw
    neighbours = _neighbours(level, study_levels, rule_set)
    criteria: tuple[CriterionResult, ...] = (
        criterion.completed(level),
        criterion.concordant(level),
        criterion.intensity(level, thresholds.pain_intensity),
        criterion.low_pressure(level, limits["low-pressure"], "low-pressure"),
        criterion.onset_volume(level, thresholds.onset_volume_ml),
        _adjacent_control(neighbours, rule_set),
        criterion.low_pressure(level, limits["very-low-pressure"], "very-low-pressure"),
        _all_adjacent_controls(neighbours),
    )
    controls = tuple(n.level for n in neighbours if n.is_control)
    return level_result(level, rule_set, criteria, _category, controls)


def _category(status: Mapping[str, CriterionStatus]) -> tuple[LevelCategory, str | None]:
    """clinical.md §2a, first match wins."""
    met, failed, missing = CriterionStatus.MET, CriterionStatus.FAILED, CriterionStatus.NOT_RECORDED
    if status["completed"] is not met:
        return LevelCategory.NOT_ASSESSABLE, "not-completed"
    if failed in (status["concordant"], status["intensity"]):
        return LevelCategory.NEGATIVE, None
    if missing in (status["concordant"], status["intensity"]):
        return LevelCategory.INDETERMINATE, "response-not-recorded"
    # A recorded value that fails settles it; a missing one leaves the response undecided.
    if failed in (status["low-pressure"], status["onset-volume"]):
        return LevelCategory.NEGATIVE, None
    if status["low-pressure"] is missing:
        return LevelCategory.INDETERMINATE, "pressure-not-recorded"
    if status["onset-volume"] is missing:
        return LevelCategory.INDETERMINATE, "volume-not-recorded"
    if status["adjacent-control"] is not met:
        return LevelCategory.INDETERMINATE, "no-adjacent-control"
    if status["very-low-pressure"] is met:
        if status["all-adjacent-controls"] is met:
            return LevelCategory.DEFINITE, None
        return LevelCategory.HIGHLY_PROBABLE, None
    return LevelCategory.PROBABLE, None


def _neighbours(
    level: Level, study_levels: Mapping[str, Level], rule_set: ManometricRuleSet
) -> tuple[_Neighbour, ...]:
    present = [study_levels.get(name) for name in adjacent_levels(level.level)]
    tested = sum(1 for other in present if other is not None and other.completed)
    return tuple(
        _judge_control(name, other, tested, rule_set)
        for name, other in zip(adjacent_levels(level.level), present, strict=True)
    )


def _judge_control(
    name: str, other: Level | None, tested_adjacent: int, rule_set: ManometricRuleSet
) -> _Neighbour:
    """Is this adjacent disc a negative control (clinical.md §2a)?"""
    thresholds = rule_set.thresholds
    if other is None:
        return _Neighbour(name, "not-tested", f"{name} was not tested")
    if not other.completed:
        return _Neighbour(
            name, "not-completed", f"{name} was not completed ({criterion.technical_words(other)})"
        )
    intensity = other.pain_intensity
    if intensity is None or other.pain_response is None:
        return _Neighbour(
            name,
            "response-not-recorded",
            f"{name} cannot be judged: its pain response or intensity was not recorded",
        )
    painless = thresholds.control_pain_intensity
    if painless.holds(intensity):
        return _Neighbour(name, "negative-control", f"{name} is a negative control (painless)")
    if other.pain_response is PainResponse.CONCORDANT:
        return _Neighbour(
            name, "concordant-pain", f"{name} is not a control: concordant pain {intensity}/10"
        )
    high = thresholds.control_discordant_delta_p_psi
    delta_p = other.delta_p_psi
    if delta_p is None:
        # Without ΔP nothing shows the pain began only at high pressure, so it cannot count.
        return _Neighbour(
            name,
            "pressure-not-recorded",
            f"{name} cannot serve as a control: discordant pain {intensity}/10 without a "
            "recorded ΔP",
        )
    if not high.holds(delta_p):
        return _Neighbour(
            name,
            "discordant-pain-at-low-pressure",
            f"{name} is not a control: discordant pain began at ΔP {criterion.shown(delta_p)} "
            f"psi, not {high.describe()}",
        )
    if rule_set.discordant_control_requires_single_adjacent and tested_adjacent > 1:
        return _Neighbour(
            name,
            "discordant-with-two-adjacent-tested",
            f"{name} is not a control: discordant pain counts only where one adjacent disc "
            "is tested",
        )
    return _Neighbour(
        name,
        "negative-control",
        f"{name} is a negative control (discordant pain only at ΔP {criterion.shown(delta_p)} "
        f"psi, {high.describe()})",
    )


def _adjacent_control(
    neighbours: tuple[_Neighbour, ...], rule_set: ManometricRuleSet
) -> CriterionResult:
    thresholds = rule_set.thresholds
    if any(n.is_control for n in neighbours):
        status = CriterionStatus.MET
    elif any(n.undecided for n in neighbours):
        status = CriterionStatus.NOT_RECORDED
    else:
        status = CriterionStatus.FAILED
    return CriterionResult(
        id="adjacent-control",
        description="at least one adjacent disc is a negative control: painless (intensity "
        f"{thresholds.control_pain_intensity.describe()}) or non-concordant pain only at ΔP "
        f"{thresholds.control_discordant_delta_p_psi.describe()}",
        status=status,
        values=_verdicts(neighbours),
        explanation=_sentences(neighbours),
    )


def _all_adjacent_controls(neighbours: tuple[_Neighbour, ...]) -> CriterionResult:
    if all(n.is_control for n in neighbours):
        status = CriterionStatus.MET
    elif any(not n.is_control and not n.undecided for n in neighbours):
        status = CriterionStatus.FAILED
    else:
        status = CriterionStatus.NOT_RECORDED
    return CriterionResult(
        id="all-adjacent-controls",
        description="every adjacent disc was tested and is a negative control "
        "(L5-S1 has one adjacent disc, L4-L5)",
        status=status,
        values=_verdicts(neighbours),
        explanation=_sentences(neighbours),
    )


def _verdicts(neighbours: tuple[_Neighbour, ...]) -> dict[str, CriterionValue]:
    return {n.level: n.verdict for n in neighbours}


def _sentences(neighbours: tuple[_Neighbour, ...]) -> str:
    return "; ".join(n.sentence for n in neighbours) + "."
