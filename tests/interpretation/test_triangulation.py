"""cervical-triangulation in detail: criteria, controls and their scope."""

from __future__ import annotations

from typing import Any

from plugin.interpretation import interpret_study
from plugin.interpretation.results import CriterionResult, LevelResult
from plugin.interpretation.rule_set import RuleSetLibrary, default_rule_sets, parse_rule_set
from plugin.interpretation.triangulation import CRITERION_IDS
from tests.interpretation.study_builder import failed, pain, painless, study


def result_of(
    level: str, *levels: dict[str, Any], library: RuleSetLibrary | None = None
) -> LevelResult:
    found = interpret_study(study(*levels), library).result_for(level)
    assert found is not None
    return found


def criterion(result: LevelResult, criterion_id: str) -> CriterionResult:
    return next(c for c in result.criteria if c.id == criterion_id)


def test_a_positive_level_lists_every_criterion_with_values() -> None:
    result = result_of(
        "C5-C6", painless("C3-C4"), pain("C5-C6", 9, dp=20, dallas=4), pain("C6-C7", 3, dp=30)
    )
    assert [c.id for c in result.criteria] == list(CRITERION_IDS)
    assert {c.status.value for c in result.criteria} == {"met"}
    assert criterion(result, "annular-disruption").values == {
        "dallas_grade": 4,
        "threshold": 3,
        "operator": ">=",
    }
    assert criterion(result, "annular-disruption").description == (
        "annular disruption: modified Dallas grade ≥ 3"
    )
    assert criterion(result, "control").values == {"C3-C4": "painless-control", "C6-C7": "painful"}
    assert criterion(result, "control").explanation == "Painless control level: C3-C4."
    assert result.controls == ("C3-C4",)
    assert result.pressure_sensitivity is None  # no bands defined for cervical discs
    assert result.summary == (
        "C5-C6: positive — concordant pain 9/10 at ΔP 20 psi, Dallas grade 4; "
        "negative control C3-C4."
    )


def test_unrecorded_pressure_is_reported_not_recorded_and_does_not_fail() -> None:
    result = result_of("C5-C6", painless("C4-C5"), pain("C5-C6", dp=None, dallas=3))
    low = criterion(result, "low-pressure")
    assert low.status.value == "not-recorded"
    assert low.explanation == (
        "ΔP cannot be computed: the opening pressure and the pressure at pain onset were not "
        "recorded."
    )
    assert result.category.value == "positive" and result.delta_p_psi is None


def test_a_failed_level_does_not_count_as_a_control() -> None:
    result = result_of("C5-C6", failed("C4-C5"), pain("C5-C6", dallas=3))
    assert criterion(result, "control").values == {"C4-C5": "not-completed"}
    assert (result.category.value, result.reason) == ("indeterminate", "no-control")


def test_an_out_of_region_painless_level_is_named_in_the_explanation() -> None:
    result = result_of("T1-T2", painless("C7-T1"), pain("T1-T2", dallas=3))
    control = criterion(result, "control")
    assert control.values == {"C7-T1": "other-region"}
    assert control.explanation == (
        "No other completed thoracic level was painless; painless C7-T1 is outside the "
        "thoracic region."
    )


def test_study_wide_control_scope_accepts_another_region() -> None:
    cervical = default_rule_sets().get("cervical-triangulation")
    assert cervical is not None
    study_wide = parse_rule_set(
        cervical.model_dump(mode="json") | {"version": "1.0.0-site", "control_scope": "study"}
    )
    library = default_rule_sets().with_rule_sets([study_wide])
    result = result_of("T1-T2", painless("C7-T1"), pain("T1-T2", dallas=3), library=library)
    assert result.category.value == "positive" and result.controls == ("C7-T1",)
    assert "level of the study" in criterion(result, "control").description


def test_a_not_completed_level_has_no_controls() -> None:
    result = result_of("C5-C6", painless("C4-C5"), failed("C5-C6", "aborted"))
    assert result.controls == ()
    assert {c.status.value for c in result.criteria[1:]} == {"not-recorded"}
