"""Studies and hand-built interpretations for the report tests.

The interpretations are written by hand so the report tests check the report, not the
engine: each test says which category a level has and looks for it in the output.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from plugin.interpretation.results import (
    CriterionResult,
    CriterionStatus,
    FhirInterpretation,
    LevelCategory,
    LevelResult,
    PositiveLevel,
    PressureSensitivity,
    RuleSetRef,
    StudyConclusion,
    StudyConclusionCode,
    StudyInterpretation,
)
from plugin.study.levels import region_of
from plugin.study.model import Study
from plugin.study.validation import parse_study

__all__ = [
    "EXAMPLE_PATH",
    "ISSUED",
    "RULE_SET",
    "example_data",
    "interpretation",
    "level_data",
    "result",
    "study",
]

EXAMPLE_PATH = (
    Path(__file__).resolve().parents[2] / "plugin" / "examples" / "lumbar-three-level.json"
)
#: A non-UTC offset, so a time-zone slip shows.
ISSUED = datetime(2026, 11, 20, 11, 5, tzinfo=timezone(timedelta(hours=-5)))
RULE_SET = RuleSetRef(id="test-rules", version="9.8.7", title="Test rule set for reports")

_FHIR = {
    LevelCategory.DEFINITE: FhirInterpretation.POS,
    LevelCategory.HIGHLY_PROBABLE: FhirInterpretation.POS,
    LevelCategory.PROBABLE: FhirInterpretation.POS,
    LevelCategory.POSITIVE: FhirInterpretation.POS,
    LevelCategory.NEGATIVE: FhirInterpretation.NEG,
    LevelCategory.INDETERMINATE: FhirInterpretation.IND,
    LevelCategory.NOT_ASSESSABLE: FhirInterpretation.IND,
}


def example_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE_PATH.read_text(encoding="utf-8"))
    return data


def level_data(level: str, **fields: Any) -> dict[str, Any]:
    """A completed, painless level unless `fields` say otherwise."""
    return {"level": level, "pain_intensity": 0, "pain_response": "none", **fields}


def study(levels: list[dict[str, Any]], **fields: Any) -> Study:
    return parse_study({"levels": levels, **fields}).study


def result(
    level: str,
    category: LevelCategory,
    *,
    role: str = "suspected",
    delta_p: float | None = None,
    controls: tuple[str, ...] = (),
    reason: str | None = None,
    sensitivity: PressureSensitivity | None = None,
    criteria: tuple[CriterionResult, ...] | None = None,
    summary: str | None = None,
) -> LevelResult:
    if criteria is None:
        criteria = (
            CriterionResult(
                id="intensity",
                description="pain intensity ≥ 7/10",
                status=CriterionStatus.MET
                if _FHIR[category] is FhirInterpretation.POS
                else CriterionStatus.FAILED,
                values={"pain_intensity": 8},
                explanation=f"intensity criterion explained for {level}",
            ),
            CriterionResult(
                id="low-pressure",
                description="ΔP < 50 psi",
                status=CriterionStatus.NOT_RECORDED,
                explanation=f"pressure criterion explained for {level}",
            ),
        )
    return LevelResult.model_validate(
        {
            "level": level,
            "region": region_of(level),
            "role": role,
            "rule_set": RULE_SET,
            "category": category,
            "interpretation": _FHIR[category],
            "reason": reason,
            "pressure_sensitivity": sensitivity,
            "delta_p_psi": delta_p,
            "criteria": criteria,
            "controls": controls,
            "summary": summary or f"{level}: {category.value} (summary sentence)",
        }
    )


def interpretation(
    *results: LevelResult,
    text: str = "Conclusion sentence for the test study.",
    code: StudyConclusionCode | None = None,
    valid_control: bool | None = None,
) -> StudyInterpretation:
    positive = tuple(
        PositiveLevel(level=r.level, category=r.category) for r in results if r.positive
    )
    if code is None:
        code = (
            StudyConclusionCode.DISCOGENIC_LEVEL_IDENTIFIED
            if positive
            else StudyConclusionCode.NO_DISCOGENIC_LEVEL
        )
    return StudyInterpretation(
        rule_sets=(RULE_SET,),
        levels=results,
        conclusion=StudyConclusion(
            code=code,
            positive_levels=positive,
            valid_control=bool(positive) if valid_control is None else valid_control,
            text=text,
        ),
    )
