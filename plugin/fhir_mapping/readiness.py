"""What a study and its interpretation need before they can be written to a chart.

Study validation accepts studies that are fine to interpret but not to file: without a
patient, with a reference the FHIR elements cannot take, or with text FHIR strings must not
hold. Every such problem is reported at once, naming the field and the rule.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from plugin.errors import InputProblemError, Problem, StudyInvalidError
from plugin.fhir_mapping.references import reference_problems
from plugin.interpretation.results import StudyInterpretation
from plugin.study.levels import is_disc_level
from plugin.study.model import Study

__all__ = ["require_reportable"]

# FHIR strings SHOULD hold no control characters but tab, CR and LF; lone surrogates (which
# JSON's \ud800 escapes can produce) cannot be encoded as UTF-8 at all.
_FORBIDDEN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def require_reportable(study: Study, interpretation: StudyInterpretation) -> None:
    """Raise `StudyInvalidError` listing every reason the study cannot be filed, then
    `InputProblemError` if the interpretation does not belong to the study."""
    problems: list[Problem] = []
    if study.patient is None:
        problems.append(
            Problem(
                "patient",
                "required-for-report",
                'the patient is required to file a report (e.g. "Patient/123")',
            )
        )
    problems.extend(reference_problems(study))
    problems.extend(_level_problems(study))
    problems.extend(_text_problems(study.model_dump(mode="json"), ""))
    if problems:
        raise StudyInvalidError(problems)
    interpretation_problems = _interpretation_problems(study, interpretation)
    if interpretation_problems:
        raise InputProblemError(interpretation_problems, "interpretation")


def _level_problems(study: Study) -> list[Problem]:
    # Studies from `parse_study` already pass these; a Study built in code may not.
    problems: list[Problem] = []
    counts = Counter(level.level for level in study.levels)
    for index, level in enumerate(study.levels):
        where = f"levels[{index}]"
        if not is_disc_level(level.level):
            problems.append(
                Problem(f"{where}.level", "unknown-level", f"unknown disc level {level.level!r}")
            )
        elif counts[level.level] > 1:
            problems.append(
                Problem(f"{where}.level", "duplicate-level", f"{level.level} is given twice")
            )
        if level.completed:
            for field in ("pain_intensity", "pain_response"):
                if getattr(level, field) is None:
                    problems.append(
                        Problem(
                            f"{where}.{field}",
                            "required-when-completed",
                            "required for a completed level (record 'none' / 0 when no pain)",
                        )
                    )
    if not study.levels:
        problems.append(Problem("levels", "min-items", "at least one level is required"))
    return problems


def _text_problems(value: Any, where: str) -> list[Problem]:
    if isinstance(value, str):
        if _FORBIDDEN_TEXT.search(value):
            return [
                Problem(
                    where,
                    "control-character",
                    "contains a control character or an unpaired surrogate, which a FHIR "
                    "string cannot hold; remove it",
                )
            ]
        return []
    if isinstance(value, dict):
        return [
            problem
            for key, item in value.items()
            for problem in _text_problems(item, f"{where}.{key}" if where else key)
        ]
    if isinstance(value, list):
        return [
            problem
            for index, item in enumerate(value)
            for problem in _text_problems(item, f"{where}[{index}]")
        ]
    return []


def _interpretation_problems(study: Study, interpretation: StudyInterpretation) -> list[Problem]:
    problems: list[Problem] = []
    studied = {level.level for level in study.levels}
    for index, level in enumerate(study.levels):
        result = interpretation.result_for(level.level)
        if result is None:
            problems.append(
                Problem(
                    f"levels[{index}]",
                    "not-interpreted",
                    f"{level.level} has no result in the interpretation; interpret the study again",
                )
            )
        elif result.role is not level.role:
            problems.append(
                Problem(
                    f"levels[{index}].role",
                    "interpretation-mismatch",
                    f"{level.level} is a {level.role.value} level in the study but was "
                    f"interpreted as a {result.role.value} level; interpret the study again",
                )
            )
    for index, result in enumerate(interpretation.levels):
        if result.level not in studied:
            problems.append(
                Problem(
                    f"interpretation.levels[{index}]",
                    "not-in-study",
                    f"{result.level} was interpreted but is not a level of the study",
                )
            )
    return problems
