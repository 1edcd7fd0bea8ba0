"""The study as it stands while it is being recorded: every problem validation finds, its
warnings, and the interpretation so far.

The interpretation is computed from the discs whose values are complete and valid; a disc
still being typed or needing a correction is left out and listed, so the panel shows what the
numbers entered so far mean (a disc whose control is not yet recorded is, for now,
indeterminate) and says that the result is provisional. Once the whole study is valid the
interpretation is the one the report will carry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from plugin.errors import InputProblemError, Problem, StudyInvalidError
from plugin.interpretation.engine import interpret_study
from plugin.interpretation.results import LevelResult, StudyInterpretation
from plugin.interpretation.rule_set import RuleSetLibrary
from plugin.study.model import Study
from plugin.study.validation import parse_study
from smart_app.workflow.blinded_order import has_results

__all__ = ["LevelProgress", "LevelState", "StudyCheck", "check_study"]

_LEVEL_FIELD = re.compile(r"^levels\[(?P<index>\d+)\]")
# Rules that only say a value is still missing: not shown for a disc nobody has started on.
_STILL_MISSING = frozenset({"required-when-completed"})


class LevelProgress(StrEnum):
    INTERPRETED = "interpreted"
    AWAITING = "awaiting"  # nothing recorded yet
    NEEDS_CORRECTION = "needs-correction"  # values recorded, some missing or invalid


@dataclass(frozen=True, slots=True)
class LevelState:
    level: str
    index: int  # position in the study's `levels`
    progress: LevelProgress
    result: LevelResult | None


@dataclass(frozen=True, slots=True)
class StudyCheck:
    study: Study | None  # the validated study, when the whole document is valid
    problems: tuple[Problem, ...]  # every error, as validation reports them
    warnings: tuple[Problem, ...]
    interpretation: StudyInterpretation | None
    levels: tuple[LevelState, ...]

    @property
    def complete(self) -> bool:
        return self.study is not None

    @property
    def provisional(self) -> bool:
        return self.interpretation is not None and self.study is None

    @property
    def shown_problems(self) -> tuple[Problem, ...]:
        """The errors worth showing while recording: "required" on a disc nobody has started
        on is progress, not a mistake (it still blocks signing)."""
        waiting = {s.index for s in self.levels if s.progress is LevelProgress.AWAITING}
        return tuple(
            p
            for p in self.problems
            if not (p.rule in _STILL_MISSING and _level_index(p.field) in waiting)
        )


def _level_index(field: str) -> int | None:
    match = _LEVEL_FIELD.match(field)
    return int(match["index"]) if match else None


def _levels(document: Mapping[str, Any]) -> list[Any]:
    levels = document.get("levels")
    return list(levels) if isinstance(levels, list) else []


def _partial_interpretation(
    document: Mapping[str, Any],
    problems: tuple[Problem, ...],
    ready: list[int],
    library: RuleSetLibrary | None,
    now: datetime | None,
) -> tuple[StudyInterpretation | None, list[int]]:
    """Interpret the ready discs; drop any that still fail together (a duplicate, say)."""
    levels = _levels(document)
    broken_top = {
        p.field.split(".")[0].split("[")[0] for p in problems if _level_index(p.field) is None
    }
    base = {k: v for k, v in document.items() if k not in broken_top or k == "levels"}
    kept = list(ready)
    while kept:
        candidate = {**base, "levels": [levels[i] for i in kept]}
        try:
            study = parse_study(candidate, now=now).study
        except StudyInvalidError as exc:
            failing = {_level_index(p.field) for p in exc.problems}
            if None in failing:
                return None, []  # a study-wide rule still fails: nothing sound to show
            kept = [i for position, i in enumerate(kept) if position not in failing]
            continue
        try:
            return interpret_study(study, library), kept
        except InputProblemError:
            return None, []
    return None, []


def check_study(
    document: Mapping[str, Any],
    library: RuleSetLibrary | None = None,
    *,
    now: datetime | None = None,
) -> StudyCheck:
    """Validate the document and interpret as much of it as is complete and valid, with the
    site's rule sets (`library`; the shipped ones by default); `now` refuses a procedure
    performed later than now."""
    levels = _levels(document)
    names = [str(lv.get("level")) if isinstance(lv, Mapping) else "" for lv in levels]
    try:
        validated = parse_study(document, now=now)
    except StudyInvalidError as exc:
        problems = tuple(exc.problems)
    else:
        complete = interpret_study(validated.study, library)
        return StudyCheck(
            study=validated.study,
            problems=(),
            warnings=validated.warnings,
            interpretation=complete,
            levels=tuple(
                LevelState(
                    level.level, index, LevelProgress.INTERPRETED, complete.result_for(level.level)
                )
                for index, level in enumerate(validated.study.levels)
            ),
        )

    with_problems = {_level_index(p.field) for p in problems}
    started = {i for i, lv in enumerate(levels) if isinstance(lv, Mapping) and has_results(lv)}
    ready = [i for i in range(len(levels)) if i in started and i not in with_problems]
    interpretation, interpreted = _partial_interpretation(document, problems, ready, library, now)
    states = []
    for index, name in enumerate(names):
        result = None
        if interpretation is not None and index in interpreted:
            result = interpretation.result_for(name)
        if result is not None:
            progress = LevelProgress.INTERPRETED
        elif index in started:
            progress = LevelProgress.NEEDS_CORRECTION
        else:
            progress = LevelProgress.AWAITING
        states.append(LevelState(name, index, progress, result))
    return StudyCheck(
        study=None,
        problems=problems,
        warnings=(),
        interpretation=interpretation,
        levels=tuple(states),
    )
