"""Each injected disc with its interpretation, in spinal order (cranial to caudal).

The report is built from a study and its interpretation; they must describe the same
levels, or the report would show a result for a disc that was not injected.
"""

from __future__ import annotations

from dataclasses import dataclass

from plugin.errors import InputProblemError, Problem
from plugin.interpretation.results import LevelResult, StudyInterpretation
from plugin.report.marks import LevelMark, level_mark
from plugin.study.levels import is_disc_level, level_index
from plugin.study.model import Level, Study

__all__ = ["TestedLevel", "tested_levels"]


@dataclass(frozen=True, slots=True)
class TestedLevel:
    level: Level
    result: LevelResult

    @property
    def name(self) -> str:
        return self.level.level

    @property
    def mark(self) -> LevelMark:
        return level_mark(self.level.role, self.result)


def tested_levels(study: Study, interpretation: StudyInterpretation) -> tuple[TestedLevel, ...]:
    """Pair levels with results. Raises `InputProblemError` naming every level that is in one
    and not the other, or that is not a known disc."""
    problems: list[Problem] = []
    pairs: list[TestedLevel] = []
    for index, level in enumerate(study.levels):
        result = interpretation.result_for(level.level)
        if not is_disc_level(level.level):
            problems.append(
                Problem(
                    f"study.levels[{index}].level",
                    "unknown-level",
                    f"{level.level!r} is not a disc level from C2-C3 to L5-S1",
                )
            )
        elif result is None:
            problems.append(
                Problem(
                    "interpretation.levels",
                    "level-not-interpreted",
                    f"the interpretation has no result for {level.level}, which the study injected",
                )
            )
        else:
            pairs.append(TestedLevel(level, result))
    injected = {level.level for level in study.levels}
    for index, result in enumerate(interpretation.levels):
        if result.level not in injected:
            problems.append(
                Problem(
                    f"interpretation.levels[{index}].level",
                    "level-not-injected",
                    f"the interpretation has a result for {result.level}, which the study did not "
                    "inject",
                )
            )
    if problems:
        raise InputProblemError(problems, "report input")
    return tuple(sorted(pairs, key=lambda pair: level_index(pair.name)))
