"""The triangulation method (shared/clinical.md §2b; rule set cervical-triangulation).

A level is positive only when low-pressure injection reproduces concordant pain at high
intensity, the disc shows annular disruption, and at least one control disc stays painless.
Pressures are judged only where recorded: a missing pressure does not by itself fail a level.
As in the manometric method, a control is any painless completed level in scope, whatever role
was recorded for it.
"""

from __future__ import annotations

from collections.abc import Mapping

from plugin.interpretation import criterion
from plugin.interpretation.level_result import level_result
from plugin.interpretation.results import (
    CriterionResult,
    CriterionStatus,
    CriterionValue,
    LevelCategory,
    LevelResult,
)
from plugin.interpretation.rule_set import ControlScope, TriangulationRuleSet
from plugin.study.model import Level

__all__ = ["CRITERION_IDS", "interpret_triangulation"]

#: Every criterion a triangulation level result lists, in report order.
CRITERION_IDS = (
    "completed",
    "concordant",
    "intensity",
    "low-pressure",
    "annular-disruption",
    "control",
)


def interpret_triangulation(
    level: Level, study_levels: Mapping[str, Level], rule_set: TriangulationRuleSet
) -> LevelResult:
    """Judge one level; `study_levels` are all levels of the study by name (the controls)."""
    thresholds = rule_set.thresholds
    limits = dict(rule_set.delta_p_limits)  # the same limits the report's charts draw
    control, controls = _control(level, study_levels, rule_set)
    criteria: tuple[CriterionResult, ...] = (
        criterion.completed(level),
        criterion.concordant(level),
        criterion.intensity(level, thresholds.pain_intensity),
        criterion.low_pressure(level, limits["low-pressure"], "low-pressure"),
        criterion.annular_disruption(level, thresholds.dallas_grade),
        control,
    )
    return level_result(level, rule_set, criteria, _category, controls)


def _category(status: Mapping[str, CriterionStatus]) -> tuple[LevelCategory, str | None]:
    """clinical.md §2b."""
    met, failed, missing = CriterionStatus.MET, CriterionStatus.FAILED, CriterionStatus.NOT_RECORDED
    if status["completed"] is not met:
        return LevelCategory.NOT_ASSESSABLE, "not-completed"
    if failed in (status["concordant"], status["intensity"]):
        return LevelCategory.NEGATIVE, None
    if missing in (status["concordant"], status["intensity"]):
        return LevelCategory.INDETERMINATE, "response-not-recorded"
    # Low pressure fails a level only on recorded pressures (not-recorded passes).
    if status["low-pressure"] is failed:
        return LevelCategory.NEGATIVE, None
    if status["annular-disruption"] is failed:
        return LevelCategory.INDETERMINATE, "annular-disruption-missing"
    if status["annular-disruption"] is missing:
        return LevelCategory.INDETERMINATE, "annular-disruption-not-recorded"
    if status["control"] is not met:
        return LevelCategory.INDETERMINATE, "no-control"
    return LevelCategory.POSITIVE, None


def _control(
    level: Level, study_levels: Mapping[str, Level], rule_set: TriangulationRuleSet
) -> tuple[CriterionResult, tuple[str, ...]]:
    """At least one other completed level (within the rule set's scope) is painless."""
    painless = rule_set.thresholds.control_pain_intensity
    same_region = rule_set.control_scope is ControlScope.SAME_REGION
    verdicts: dict[str, CriterionValue] = {}
    controls: list[str] = []
    undecided = False
    outside: list[str] = []
    for other in study_levels.values():
        if other.level == level.level:
            continue
        in_scope = not same_region or other.region is level.region
        if not other.completed:
            verdicts[other.level] = "not-completed"
        elif other.pain_intensity is None:
            verdicts[other.level] = "response-not-recorded"
            undecided = undecided or in_scope
        elif not painless.holds(other.pain_intensity):
            verdicts[other.level] = "painful"
        elif not in_scope:
            verdicts[other.level] = "other-region"
            outside.append(other.level)
        else:
            verdicts[other.level] = "painless-control"
            controls.append(other.level)
    where = f"{level.region.value} level" if same_region else "level of the study"
    if controls:
        status = CriterionStatus.MET
        explanation = f"Painless control {'level' if len(controls) == 1 else 'levels'}: "
        explanation += f"{', '.join(controls)}."
    else:
        status = CriterionStatus.NOT_RECORDED if undecided else CriterionStatus.FAILED
        explanation = f"No other completed {where} was painless"
        if undecided:
            explanation += " (a level's pain intensity was not recorded)"
        if outside:
            explanation += f"; painless {', '.join(outside)} is outside the {level.region.value} "
            explanation += "region"
        explanation += "."
    description = (
        f"at least one other completed {where} is painless (intensity {painless.describe()})"
    )
    result = CriterionResult(
        id="control",
        description=description,
        status=status,
        values=verdicts,
        explanation=explanation,
    )
    return result, tuple(controls)
