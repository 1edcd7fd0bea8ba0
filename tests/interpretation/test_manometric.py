"""lumbar-manometric in detail: criteria listed, values used, adjacent-control verdicts."""

from __future__ import annotations

from typing import Any

import pytest

from plugin.interpretation import interpret_study
from plugin.interpretation.manometric import CRITERION_IDS
from plugin.interpretation.results import CriterionResult, CriterionStatus, LevelResult
from plugin.interpretation.rule_set import RuleSetLibrary, default_rule_sets, parse_rule_set
from plugin.study.model import Level, Study
from tests.interpretation.study_builder import failed, pain, painless, study


def result_of(
    level: str, *levels: dict[str, Any], library: RuleSetLibrary | None = None
) -> LevelResult:
    found = interpret_study(study(*levels), library).result_for(level)
    assert found is not None
    return found


def criterion(result: LevelResult, criterion_id: str) -> CriterionResult:
    return next(c for c in result.criteria if c.id == criterion_id)


def statuses(result: LevelResult) -> dict[str, str]:
    return {c.id: c.status.value for c in result.criteria}


def test_a_definite_level_lists_every_criterion_met_with_the_values_used() -> None:
    result = result_of(
        "L4-L5", painless("L3-L4"), pain("L4-L5", 8, dp=12, volume=1.5), painless("L5-S1")
    )
    assert [c.id for c in result.criteria] == list(CRITERION_IDS)
    assert set(statuses(result).values()) == {"met"}
    assert criterion(result, "intensity").values == {
        "pain_intensity": 8,
        "threshold": 7,
        "operator": ">=",
    }
    assert criterion(result, "low-pressure").values == {
        "delta_p_psi": 12,
        "threshold": 50,
        "operator": "<",
        "opening_pressure_psi": 10.0,
        "onset_pressure_psi": 22.0,
    }
    assert criterion(result, "onset-volume").explanation == (
        "Volume at pain onset 1.5 mL meets ≤ 3.5 mL."
    )
    assert criterion(result, "adjacent-control").values == {
        "L3-L4": "negative-control",
        "L5-S1": "negative-control",
    }
    assert result.controls == ("L3-L4", "L5-S1")
    assert result.delta_p_psi == 12
    assert result.summary == (
        "L4-L5: definite — concordant pain 8/10 at ΔP 12 psi; negative controls L3-L4, L5-S1."
    )


def test_a_negative_level_still_reports_each_criterion() -> None:
    result = result_of("L4-L5", painless("L3-L4"), pain("L4-L5", 5, dp=60, volume=4))
    assert statuses(result) == {
        "completed": "met",
        "concordant": "met",
        "intensity": "failed",
        "low-pressure": "failed",
        "onset-volume": "failed",
        "adjacent-control": "met",
        "very-low-pressure": "failed",
        "all-adjacent-controls": "failed",
    }
    assert criterion(result, "intensity").explanation == "Pain intensity 5/10 does not meet ≥ 7/10."
    assert result.summary == (
        "L4-L5: negative — pain intensity 5/10 does not meet ≥ 7/10; ΔP 60 psi does not meet "
        "< 50 psi; volume at pain onset 4 mL does not meet ≤ 3.5 mL."
    )
    assert result.controls == ("L3-L4",)  # a control served, even though the level is negative


def test_a_level_not_completed_is_not_judged_on_stray_values() -> None:
    aborted = {**pain("L4-L5"), "technical_result": "aborted", "abort_reason": "patient moved"}
    result = result_of("L4-L5", painless("L3-L4"), aborted)
    assert result.category.value == "not-assessable" and result.reason == "not-completed"
    assert statuses(result)["completed"] == "failed"
    assert {s for i, s in statuses(result).items() if i != "completed"} == {"not-recorded"}
    assert criterion(result, "intensity").explanation == (
        "Not assessed: the injection was aborted (patient moved)."
    )
    assert result.controls == ()
    assert result.pressure_sensitivity is None


@pytest.mark.parametrize(
    ("neighbour", "verdict", "status"),
    [
        (painless("L3-L4"), "negative-control", "met"),
        (pain("L3-L4", 2, dp=30, response="discordant"), "negative-control", "met"),
        (
            pain("L3-L4", 2, dp=10, response="discordant"),
            "discordant-pain-at-low-pressure",
            "failed",
        ),
        (pain("L3-L4", 2, dp=None, response="discordant"), "pressure-not-recorded", "not-recorded"),
        (pain("L3-L4", 2, dp=30), "concordant-pain", "failed"),
        (failed("L3-L4"), "not-completed", "failed"),
        (None, "not-tested", "failed"),
    ],
)
def test_adjacent_control_verdicts(
    neighbour: dict[str, Any] | None, verdict: str, status: str
) -> None:
    levels = [neighbour] if neighbour else []
    result = result_of("L4-L5", *levels, pain("L4-L5"))
    adjacent = criterion(result, "adjacent-control")
    assert adjacent.values == {"L3-L4": verdict, "L5-S1": "not-tested"}
    assert adjacent.status.value == status
    assert result.category.value == ("highly-probable" if status == "met" else "indeterminate")


def test_missing_control_pressure_is_explained() -> None:
    result = result_of("L4-L5", pain("L3-L4", 2, dp=None, response="discordant"), pain("L4-L5"))
    assert criterion(result, "adjacent-control").explanation == (
        "L3-L4 cannot serve as a control: discordant pain 2/10 without a recorded ΔP; "
        "L5-S1 was not tested."
    )
    assert result.reason == "no-adjacent-control"


def test_all_adjacent_controls_is_undecided_when_a_neighbour_cannot_be_judged() -> None:
    result = result_of(
        "L4-L5", painless("L3-L4"), pain("L4-L5"), pain("L5-S1", 2, dp=None, response="discordant")
    )
    assert criterion(result, "all-adjacent-controls").status is CriterionStatus.NOT_RECORDED
    assert result.category.value == "highly-probable"


def test_thoracolumbar_neighbours_cross_the_region_boundary() -> None:
    result = result_of("T12-L1", painless("T11-T12"), pain("T12-L1"))
    assert criterion(result, "adjacent-control").values == {
        "T11-T12": "negative-control",
        "L1-L2": "not-tested",
    }
    assert result.category.value == "highly-probable"


def source_following_library() -> RuleSetLibrary:
    lumbar = default_rule_sets().get("lumbar-manometric")
    assert lumbar is not None
    strict = parse_rule_set(
        lumbar.model_dump(mode="json")
        | {"version": "1.0.0-source", "discordant_control_requires_single_adjacent": True}
    )
    return default_rule_sets().with_rule_sets([strict])


def test_discordant_control_with_two_adjacent_discs_follows_the_product_definition() -> None:
    levels = (pain("L3-L4", 3, dp=30, response="discordant"), pain("L4-L5"), painless("L5-S1"))
    assert result_of("L4-L5", *levels).category.value == "definite"
    strict = result_of("L4-L5", *levels, library=source_following_library())
    assert criterion(strict, "adjacent-control").values["L3-L4"] == (
        "discordant-with-two-adjacent-tested"
    )
    assert strict.category.value == "highly-probable"  # L5-S1 still a painless control


def test_source_reading_still_accepts_a_discordant_control_at_l5_s1() -> None:
    levels = (pain("L4-L5", 3, dp=30, response="discordant"), pain("L5-S1"))
    result = result_of("L5-S1", *levels, library=source_following_library())
    assert result.category.value == "definite"


def test_an_unrecorded_response_is_indeterminate_not_negative() -> None:
    # Validation requires these for a completed level; a Study built directly may lack them.
    direct = Study(levels=[Level(level="L4-L5"), Level.model_validate(painless("L3-L4"))])
    result = interpret_study(direct).result_for("L4-L5")
    assert result is not None
    assert (result.category.value, result.reason) == ("indeterminate", "response-not-recorded")
    assert criterion(result, "intensity").status is CriterionStatus.NOT_RECORDED
