from __future__ import annotations

import pytest

from plugin.errors import InputProblemError
from plugin.interpretation.results import LevelCategory
from plugin.report.marks import LevelMark
from plugin.report.tested_levels import tested_levels as pair_levels
from tests.report.builders import interpretation, level_data, result, study


def test_levels_come_in_spinal_order_with_their_results() -> None:
    s = study([level_data("L5-S1"), level_data("C5-C6"), level_data("L3-L4", role="control")])
    interp = interpretation(
        result("C5-C6", LevelCategory.NEGATIVE),
        result("L3-L4", LevelCategory.NEGATIVE, role="control"),
        result("L5-S1", LevelCategory.DEFINITE),
    )
    pairs = pair_levels(s, interp)
    assert [p.name for p in pairs] == ["C5-C6", "L3-L4", "L5-S1"]
    assert [p.result.level for p in pairs] == ["C5-C6", "L3-L4", "L5-S1"]
    assert [p.mark for p in pairs] == [LevelMark.NEGATIVE, LevelMark.CONTROL, LevelMark.POSITIVE]


def test_every_mismatch_is_reported_with_its_field() -> None:
    s = study([level_data("L4-L5"), level_data("L5-S1")])
    interp = interpretation(
        result("L4-L5", LevelCategory.NEGATIVE), result("L2-L3", LevelCategory.NEGATIVE)
    )
    with pytest.raises(InputProblemError) as caught:
        pair_levels(s, interp)
    problems = [(p.field, p.rule) for p in caught.value.problems]
    assert problems == [
        ("interpretation.levels", "level-not-interpreted"),
        ("interpretation.levels[1].level", "level-not-injected"),
    ]
    assert "report input is invalid" in str(caught.value)
