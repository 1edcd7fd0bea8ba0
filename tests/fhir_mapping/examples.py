"""Example studies, interpretations and renderings for the mapping tests.

Interpretations are built by hand (the category of each level is chosen by the test), so a
mapping test does not depend on the interpretation engine's thresholds.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from importlib.resources import files
from typing import Any

from plugin.interpretation.results import (
    FHIR_INTERPRETATION_BY_CATEGORY,
    LevelCategory,
    LevelResult,
    PositiveLevel,
    PressureSensitivity,
    RuleSetRef,
    StudyConclusion,
    StudyConclusionCode,
    StudyInterpretation,
)
from plugin.report.rendered import RenderedReport
from plugin.study.levels import Region
from plugin.study.model import Study
from plugin.study.validation import parse_study

__all__ = [
    "CERVICAL_RULE_SET",
    "ISSUED",
    "LUMBAR_RULE_SET",
    "example_study_data",
    "interpretation_for",
    "rendered_report",
    "study_from",
]

#: A non-UTC offset, so a time-zone slip shows.
ISSUED = datetime(2026, 11, 20, 11, 45, 12, tzinfo=timezone(timedelta(hours=-5)))

LUMBAR_RULE_SET = RuleSetRef(
    id="lumbar-manometric", version="1.0.0", title="Lumbar manometric criteria"
)
CERVICAL_RULE_SET = RuleSetRef(
    id="cervical-triangulation", version="1.1.0", title="Cervical triangulation"
)


def example_study_data() -> dict[str, Any]:
    """The shipped lumbar three-level example (a fresh copy each call)."""
    text = (files("plugin.examples") / "lumbar-three-level.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def study_from(data: dict[str, Any]) -> Study:
    return parse_study(data).study


def interpretation_for(
    study: Study,
    categories: dict[str, LevelCategory] | None = None,
    sensitivities: dict[str, PressureSensitivity] | None = None,
    conclusion_text: str = "No discogenic level identified.",
) -> StudyInterpretation:
    """An interpretation of every level: the given category, else negative when completed and
    not assessable when not."""
    categories = categories or {}
    sensitivities = sensitivities or {}
    results = []
    for level in study.levels:
        default = LevelCategory.NEGATIVE if level.completed else LevelCategory.NOT_ASSESSABLE
        category = categories.get(level.level, default)
        rule_set = LUMBAR_RULE_SET if level.region is Region.LUMBAR else CERVICAL_RULE_SET
        results.append(
            LevelResult(
                level=level.level,
                region=level.region,
                role=level.role,
                rule_set=rule_set,
                category=category,
                interpretation=FHIR_INTERPRETATION_BY_CATEGORY[category],
                pressure_sensitivity=sensitivities.get(level.level),
                delta_p_psi=level.delta_p_psi,
                criteria=(),
                summary=f"{level.level}: {category.value}",
            )
        )
    positives = tuple(
        PositiveLevel(level=r.level, category=r.category) for r in results if r.positive
    )
    code = (
        StudyConclusionCode.DISCOGENIC_LEVEL_IDENTIFIED
        if positives
        else StudyConclusionCode.NO_DISCOGENIC_LEVEL
    )
    used = tuple(dict.fromkeys(r.rule_set for r in results))
    return StudyInterpretation(
        rule_sets=used,
        levels=tuple(results),
        conclusion=StudyConclusion(
            code=code, positive_levels=positives, valid_control=True, text=conclusion_text
        ),
    )


def rendered_report(language: str = "en") -> RenderedReport:
    return RenderedReport(
        html=f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="utf-8"></head>'
        "<body><h1>Provocative discography</h1><p>Ünïcode ✓ &amp; markup</p></body></html>",
        pdf=b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n",
        text="Provocative discography\nImpression: no discogenic level — ✓\n",
    )
