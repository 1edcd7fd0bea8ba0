"""The one-sentence summary of each category."""

from __future__ import annotations

from typing import Any

import pytest

from plugin.interpretation import interpret_study
from plugin.interpretation.results import LevelCategory
from plugin.interpretation.summary import CATEGORY_WORDS, REASON_WORDS
from tests.interpretation.study_builder import failed, pain, painless, study


def summary(level: str, *levels: dict[str, Any]) -> str:
    result = interpret_study(study(*levels)).result_for(level)
    assert result is not None
    return result.summary


@pytest.mark.parametrize(
    ("levels", "level", "expected"),
    [
        (
            [painless("L3-L4"), pain("L4-L5", dp=22)],
            "L4-L5",
            "L4-L5: probable — concordant pain 8/10 at ΔP 22 psi; negative control L3-L4.",
        ),
        ([painless("L3-L4")], "L3-L4", "L3-L4: negative — no pain was provoked."),
        (
            [pain("L4-L5", 8, response="discordant")],
            "L4-L5",
            "L4-L5: negative — the pain was discordant (different quality or place).",
        ),
        ([failed("L4-L5")], "L4-L5", "L4-L5: not assessable — the injection was not entered."),
        (
            [pain("L4-L5")],
            "L4-L5",
            "L4-L5: indeterminate (no adjacent negative control) — concordant pain 8/10 at ΔP 10 "
            "psi; L3-L4 was not tested; L5-S1 was not tested.",
        ),
        (
            [painless("L3-L4"), pain("L4-L5", dp=None)],
            "L4-L5",
            "L4-L5: indeterminate (pressure not recorded) — concordant pain 8/10 (ΔP not "
            "recorded); ΔP cannot be computed: the opening pressure and the pressure at pain onset "
            "were not recorded.",
        ),
        (
            [painless("C4-C5"), pain("C5-C6", dallas=2)],
            "C5-C6",
            "C5-C6: indeterminate (no annular disruption at the required grade) — concordant pain "
            "8/10 at ΔP 10 psi; modified Dallas grade 2 does not meet ≥ 3.",
        ),
    ],
)
def test_summaries(levels: list[dict[str, Any]], level: str, expected: str) -> None:
    assert summary(level, *levels) == expected


def test_every_category_has_words() -> None:
    assert set(CATEGORY_WORDS) == set(LevelCategory)
    assert "no-adjacent-control" in REASON_WORDS and "no-control" in REASON_WORDS
