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


def test_a_painless_level_of_another_region_is_a_control_by_default() -> None:
    """clinical.md §2b: any other tested level of the study with intensity 0 (review case C)."""
    result = result_of("C7-T1", pain("C7-T1", 8, dp=10, dallas=4, volume=0.3), painless("T1-T2"))
    assert (result.category.value, result.controls) == ("positive", ("T1-T2",))
    control = criterion(result, "control")
    assert control.values == {"T1-T2": "painless-control"}
    assert "level of the study" in control.description
    assert result.rule_set.version == "1.1.0"


def same_region_library() -> RuleSetLibrary:
    """A site's rule set keeping controls within the target's region (the documented option)."""
    cervical = default_rule_sets().get("cervical-triangulation")
    assert cervical is not None
    same_region = parse_rule_set(
        cervical.model_dump(mode="json") | {"version": "1.1.0-site", "control_scope": "same-region"}
    )
    return default_rule_sets().with_rule_sets([same_region])


def test_same_region_scope_names_the_out_of_region_painless_level() -> None:
    library = same_region_library()
    result = result_of("T1-T2", painless("C7-T1"), pain("T1-T2", dallas=3), library=library)
    assert (result.category.value, result.reason) == ("indeterminate", "no-control")
    control = criterion(result, "control")
    assert control.values == {"C7-T1": "other-region"}
    assert control.explanation == (
        "No other completed thoracic level was painless; painless C7-T1 is outside the "
        "thoracic region."
    )
    assert result.rule_set.version == "1.1.0-site"


def test_a_not_completed_level_has_no_controls() -> None:
    result = result_of("C5-C6", painless("C4-C5"), failed("C5-C6", "aborted"))
    assert result.controls == ()
    assert {c.status.value for c in result.criteria[1:]} == {"not-recorded"}
