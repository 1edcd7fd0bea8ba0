"""The `LevelResult` of one level, assembled the same way whatever the rule set's method:
the method decides the criteria and the category; this fills in the rest."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from plugin.interpretation import criterion
from plugin.interpretation.pressure_sensitivity import classify_pressure_sensitivity
from plugin.interpretation.results import (
    FHIR_INTERPRETATION_BY_CATEGORY,
    CriterionResult,
    CriterionStatus,
    LevelCategory,
    LevelResult,
    PressureLimit,
)
from plugin.interpretation.rule_set import ManometricRuleSet, TriangulationRuleSet
from plugin.interpretation.summary import level_summary
from plugin.study.model import Level

__all__ = ["CategoryRule", "level_result"]

#: A rule set's category rule: criterion statuses by id → (category, reason qualifier).
CategoryRule = Callable[[Mapping[str, CriterionStatus]], tuple[LevelCategory, str | None]]


def level_result(
    level: Level,
    rule_set: ManometricRuleSet | TriangulationRuleSet,
    criteria: Sequence[CriterionResult],
    categorize: CategoryRule,
    controls: tuple[str, ...],
) -> LevelResult:
    """`criteria` in the rule set's order, the first being "completed". A level that was not
    completed is assessed on nothing else: its other criteria say so and it has no controls."""
    if not level.completed:
        criteria = (criteria[0], *(criterion.not_assessed(c, level) for c in criteria[1:]))
        controls = ()
    criteria = tuple(criteria)
    category, reason = categorize({c.id: c.status for c in criteria})
    return LevelResult(
        level=level.level,
        region=level.region,
        role=level.role,
        rule_set=rule_set.ref,
        category=category,
        interpretation=FHIR_INTERPRETATION_BY_CATEGORY[category],
        reason=reason,
        pressure_sensitivity=classify_pressure_sensitivity(
            level, rule_set.thresholds.pressure_sensitivity
        ),
        delta_p_psi=level.delta_p_psi,
        criteria=criteria,
        controls=controls,
        pressure_limits=_pressure_limits(rule_set),
        summary=level_summary(level, category, reason, criteria, controls),
    )


def _pressure_limits(
    rule_set: ManometricRuleSet | TriangulationRuleSet,
) -> tuple[PressureLimit, ...]:
    limits = (
        PressureLimit(
            criterion=criterion_id, delta_p_psi=threshold.value, comparison=threshold.describe()
        )
        for criterion_id, threshold in rule_set.delta_p_limits
    )
    return tuple(sorted(limits, key=lambda limit: limit.delta_p_psi))
