"""Interpret a discography study: every level by its rule set, then the study conclusion.

Pure: no I/O beyond loading the shipped rule sets once (cached) when no library is given.
"""

from __future__ import annotations

from plugin.errors import Problem, StudyInvalidError
from plugin.interpretation import manometric, triangulation
from plugin.interpretation.conclusion import conclude
from plugin.interpretation.results import LevelResult, RuleSetRef, StudyInterpretation
from plugin.interpretation.rule_set import (
    ManometricRuleSet,
    RuleSet,
    RuleSetLibrary,
    default_rule_sets,
)
from plugin.study.levels import is_disc_level, level_index
from plugin.study.model import Level, Study

__all__ = ["criterion_ids", "interpret_study"]


def interpret_study(study: Study, library: RuleSetLibrary | None = None) -> StudyInterpretation:
    """Interpret `study` with `library` (default: the shipped rule sets).

    `study.rule_set`, when set, forces that rule set on every level, and must apply to every
    level (its ``applies_to``); otherwise each level uses the default of its region or level, so
    a study spanning regions mixes rule sets. Levels come back in anatomical order, whatever
    their order in the study.
    """
    rule_sets = library if library is not None else default_rule_sets()
    _check_levels(study)
    forced = _forced_rule_set(study, rule_sets)
    ordered = sorted(study.levels, key=lambda level: level_index(level.level))
    by_name = {level.level: level for level in ordered}
    used: dict[str, RuleSetRef] = {}
    results: list[LevelResult] = []
    for level in ordered:
        rule_set = forced if forced is not None else rule_sets.for_level(level.level)
        used.setdefault(rule_set.id, rule_set.ref)
        results.append(_interpret_level(level, by_name, rule_set))
    return StudyInterpretation(
        rule_sets=tuple(used.values()), levels=tuple(results), conclusion=conclude(results)
    )


def criterion_ids(rule_set: RuleSet) -> tuple[str, ...]:
    """The criteria every level result of `rule_set` lists, in order."""
    if isinstance(rule_set, ManometricRuleSet):
        return manometric.CRITERION_IDS
    return triangulation.CRITERION_IDS


def _interpret_level(level: Level, by_name: dict[str, Level], rule_set: RuleSet) -> LevelResult:
    if isinstance(rule_set, ManometricRuleSet):
        return manometric.interpret_manometric(level, by_name, rule_set)
    return triangulation.interpret_triangulation(level, by_name, rule_set)


def _forced_rule_set(study: Study, library: RuleSetLibrary) -> RuleSet | None:
    if study.rule_set is None:
        return None
    rule_set = library.get(study.rule_set)
    if rule_set is None:
        raise StudyInvalidError(
            [
                Problem(
                    "rule_set",
                    "unknown-rule-set",
                    f"unknown rule set {study.rule_set!r}; known rule sets: "
                    f"{', '.join(library.ids) or 'none'}",
                )
            ]
        )
    # A rule set's thresholds were set for the discs it applies to (clinical.md §2a, §2b):
    # lumbar pressure bands say nothing about a cervical disc, which is judged on annular
    # disruption. Using it elsewhere would give a category its criteria do not support.
    outside = [
        level.level
        for level in sorted(study.levels, key=lambda level: level_index(level.level))
        if rule_set.applies_to.specificity(level.level) == 0
    ]
    if outside:
        plural = "levels" if len(outside) > 1 else "level"
        raise StudyInvalidError(
            [
                Problem(
                    "rule_set",
                    "rule-set-not-applicable",
                    f"rule set {rule_set.id!r} does not apply to {plural} {', '.join(outside)} "
                    f"(it applies to {_applies_to_words(rule_set)}); leave rule_set empty to "
                    "interpret each level with the default for its disc",
                )
            ]
        )
    return rule_set


def _applies_to_words(rule_set: RuleSet) -> str:
    """``"cervical and thoracic discs, except T12-L1"``."""
    scope = rule_set.applies_to
    parts: list[str] = []
    if scope.regions:
        parts.append(f"{' and '.join(region.value for region in scope.regions)} discs")
    if scope.levels:
        parts.append(", ".join(scope.levels))
    words = " and ".join(parts) if parts else "no disc"
    if scope.exclude_levels and parts:
        words += f", except {', '.join(scope.exclude_levels)}"
    return words


def _check_levels(study: Study) -> None:
    """A `Study` built without `parse_study` may still carry an unknown or repeated level."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, level in enumerate(study.levels):
        if not is_disc_level(level.level):
            problems.append(
                Problem(
                    f"levels[{index}].level",
                    "unknown-level",
                    f"unknown disc level {level.level!r}; expected a level such as 'L4-L5'",
                )
            )
        elif level.level in seen:
            problems.append(
                Problem(
                    f"levels[{index}].level", "duplicate-level", f"{level.level} is given twice"
                )
            )
        seen.add(level.level)
    if not study.levels:
        problems.append(Problem("levels", "min-items", "at least one level is required"))
    if problems:
        raise StudyInvalidError(problems)
