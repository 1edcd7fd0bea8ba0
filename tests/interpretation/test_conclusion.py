"""The study conclusion: code, positive levels, control validity and the sentence."""

from __future__ import annotations

from plugin.interpretation import interpret_study
from plugin.interpretation.conclusion import is_candidate_level, is_concordant_level
from plugin.interpretation.reasons import REASON_KINDS
from plugin.interpretation.results import StudyConclusionCode
from plugin.interpretation.summary import REASON_WORDS
from plugin.terminology import PRODUCT_CODE_SYSTEMS
from tests.interpretation.study_builder import failed, pain, painless, study


def test_positive_levels_with_their_categories_and_controls() -> None:
    conclusion = interpret_study(
        study(painless("L2-L3"), pain("L3-L4", dp=20), painless("L4-L5"), pain("L5-S1"))
    ).conclusion
    assert conclusion.code is StudyConclusionCode.DISCOGENIC_LEVEL_IDENTIFIED
    assert [(p.level, p.category.value) for p in conclusion.positive_levels] == [
        ("L3-L4", "probable"),
        ("L5-S1", "definite"),
    ]
    assert conclusion.valid_control
    assert conclusion.text == (
        "Discogenic levels identified: L3-L4 (probable), L5-S1 (definite). "
        "Negative controls: L2-L3, L4-L5."
    )


def test_a_positive_level_beside_an_indeterminate_and_a_failed_one() -> None:
    conclusion = interpret_study(
        study(failed("L2-L3"), painless("L3-L4"), pain("L4-L5"), pain("L5-S1", dp=20))
    ).conclusion
    assert conclusion.text == (
        "Discogenic level identified: L4-L5 (highly probable). Negative control: L3-L4. "
        "Indeterminate: L5-S1 (no adjacent negative control). Not assessable: L2-L3."
    )


def test_no_discogenic_level() -> None:
    conclusion = interpret_study(study(painless("L4-L5"), pain("L5-S1", 4, dp=30))).conclusion
    assert conclusion.code is StudyConclusionCode.NO_DISCOGENIC_LEVEL
    assert conclusion.positive_levels == ()
    assert conclusion.text == "No discogenic level identified."


def test_no_valid_control_names_the_concordant_levels() -> None:
    conclusion = interpret_study(study(pain("L4-L5"), pain("L5-S1"))).conclusion
    assert conclusion.code is StudyConclusionCode.INDETERMINATE_NO_CONTROL
    assert not conclusion.valid_control
    assert conclusion.text == (
        "Study indeterminate: no valid control level. Concordant pain at L4-L5, L5-S1 without "
        "a valid negative control."
    )


def test_no_level_assessable() -> None:
    """Every injection failed: no concordant level, so not "no valid control" (review case D)."""
    conclusion = interpret_study(study(failed("L4-L5"), failed("L3-L4"))).conclusion
    assert conclusion.code is StudyConclusionCode.INDETERMINATE_NO_LEVEL_ASSESSABLE
    assert not conclusion.valid_control
    assert conclusion.text == (
        "Study indeterminate: no level assessable. "
        "No injection was completed, so no level could be judged."
    )


def test_pressure_not_recorded_makes_the_study_indeterminate_not_negative() -> None:
    """Review case A: L4-L5 concordant 8/10 with a painless neighbour but no pressures."""
    conclusion = interpret_study(study(painless("L3-L4"), pain("L4-L5", 8, dp=None))).conclusion
    assert conclusion.code is StudyConclusionCode.INDETERMINATE_DATA_NOT_RECORDED
    assert conclusion.valid_control and conclusion.positive_levels == ()
    assert conclusion.text == (
        "Study indeterminate: data not recorded. "
        "Could not be judged for missing data: L4-L5 (pressure not recorded)."
    )


def test_dallas_grade_not_recorded_makes_the_study_indeterminate_not_negative() -> None:
    """Review case B: cervical C5-C6 concordant 8/10 with a painless control, no Dallas grade."""
    conclusion = interpret_study(
        study(painless("C4-C5"), pain("C5-C6", 8, dp=10, volume=0.3))
    ).conclusion
    assert conclusion.code is StudyConclusionCode.INDETERMINATE_DATA_NOT_RECORDED
    assert conclusion.text == (
        "Study indeterminate: data not recorded. "
        "Could not be judged for missing data: C5-C6 (Dallas grade not recorded)."
    )


def test_every_missing_value_is_named_with_its_level() -> None:
    conclusion = interpret_study(
        study(
            failed("L1-L2"),
            painless("L2-L3"),
            pain("L3-L4", dp=None),
            painless("L4-L5"),
            pain("L5-S1", volume=None),
        )
    ).conclusion
    assert conclusion.code is StudyConclusionCode.INDETERMINATE_DATA_NOT_RECORDED
    assert conclusion.text == (
        "Study indeterminate: data not recorded. Could not be judged for missing data: "
        "L3-L4 (pressure not recorded), L5-S1 (volume at pain onset not recorded). "
        "Not assessable: L1-L2."
    )


def test_a_positive_level_outranks_a_level_with_missing_data() -> None:
    conclusion = interpret_study(
        study(painless("L2-L3"), pain("L3-L4"), painless("L4-L5"), pain("L5-S1", dp=None))
    ).conclusion
    assert conclusion.code is StudyConclusionCode.DISCOGENIC_LEVEL_IDENTIFIED
    assert conclusion.text.endswith("Indeterminate: L5-S1 (pressure not recorded).")


def test_no_valid_control_still_names_a_missing_value() -> None:
    conclusion = interpret_study(study(pain("L4-L5", dp=None), pain("L5-S1"))).conclusion
    assert conclusion.code is StudyConclusionCode.INDETERMINATE_NO_CONTROL
    assert conclusion.text == (
        "Study indeterminate: no valid control level. Concordant pain at L4-L5, L5-S1 without "
        "a valid negative control. Indeterminate: L4-L5 (pressure not recorded)."
    )


def test_concordant_pain_negative_by_pressure_without_a_control_is_not_a_negative_study() -> None:
    """clinical.md §2c: every concordant level (concordant at high intensity, whatever its
    pressure) lacks a valid control, so the study is indeterminate, not negative."""
    interpretation = interpret_study(study(pain("L4-L5", 8, dp=60)))
    assert is_concordant_level(interpretation.levels[0])
    assert not is_candidate_level(interpretation.levels[0])
    assert interpretation.conclusion.code is StudyConclusionCode.INDETERMINATE_NO_CONTROL
    assert not interpretation.conclusion.valid_control
    assert interpretation.conclusion.text == (
        "Study indeterminate: no valid control level. "
        "Concordant pain at L4-L5 without a valid negative control."
    )


def test_a_recorded_dallas_grade_below_threshold_still_needs_a_control() -> None:
    """clinical.md §2b makes concordant 8/10 without annular disruption indeterminate, and §2c
    makes a study whose every concordant level lacks a control indeterminate."""
    conclusion = interpret_study(study(pain("C5-C6", dallas=2), pain("C6-C7", 3))).conclusion
    assert conclusion.code is StudyConclusionCode.INDETERMINATE_NO_CONTROL
    assert not conclusion.valid_control
    assert conclusion.text == (
        "Study indeterminate: no valid control level. "
        "Concordant pain at C5-C6 without a valid negative control. "
        "Indeterminate: C5-C6 (no annular disruption at the required grade)."
    )


def test_a_dallas_grade_below_threshold_with_a_control_is_a_negative_study() -> None:
    """The control is valid; no annular disruption keeps C5-C6 from being discogenic."""
    conclusion = interpret_study(study(painless("C4-C5"), pain("C5-C6", dallas=2))).conclusion
    assert conclusion.code is StudyConclusionCode.NO_DISCOGENIC_LEVEL
    assert conclusion.valid_control
    assert conclusion.text == (
        "No discogenic level identified. "
        "Indeterminate: C5-C6 (no annular disruption at the required grade)."
    )


def test_reviewer_cervical_concordant_dallas_2_levels_without_a_painless_level() -> None:
    """Review: C4-C5 and C5-C6 concordant 8-9/10 with Dallas 2, no painless level."""
    conclusion = interpret_study(
        study(pain("C4-C5", 8, dp=10, dallas=2), pain("C5-C6", 9, dp=10, dallas=2))
    ).conclusion
    assert conclusion.code is StudyConclusionCode.INDETERMINATE_NO_CONTROL
    assert not conclusion.valid_control
    assert conclusion.text == (
        "Study indeterminate: no valid control level. "
        "Concordant pain at C4-C5, C5-C6 without a valid negative control. "
        "Indeterminate: C4-C5 (no annular disruption at the required grade), "
        "C5-C6 (no annular disruption at the required grade)."
    )


def test_reviewer_lumbar_concordant_levels_at_high_pressure_without_a_painless_level() -> None:
    """Review: L4-L5 and L5-S1 concordant 8/10 at ΔP 60, no painless level."""
    conclusion = interpret_study(study(pain("L4-L5", 8, dp=60), pain("L5-S1", 8, dp=60))).conclusion
    assert conclusion.code is StudyConclusionCode.INDETERMINATE_NO_CONTROL
    assert not conclusion.valid_control
    assert conclusion.text == (
        "Study indeterminate: no valid control level. "
        "Concordant pain at L4-L5, L5-S1 without a valid negative control."
    )


def test_a_level_excluded_by_pressure_does_not_lend_its_control() -> None:
    """L3-L4 (ΔP 60) has L2-L3 as its control; L5-S1, positive but for a control, has none:
    only L5-S1 is named as lacking one."""
    conclusion = interpret_study(
        study(painless("L2-L3"), pain("L3-L4", dp=60), pain("L5-S1"))
    ).conclusion
    assert conclusion.code is StudyConclusionCode.INDETERMINATE_NO_CONTROL
    assert not conclusion.valid_control
    assert conclusion.text == (
        "Study indeterminate: no valid control level. "
        "Concordant pain at L5-S1 without a valid negative control."
    )


def test_no_valid_control_names_every_concordant_level_without_one() -> None:
    """L3-L4 (ΔP 60) and L5-S1 are both concordant 8/10 and neither has a control."""
    conclusion = interpret_study(study(pain("L3-L4", dp=60), pain("L5-S1"))).conclusion
    assert conclusion.code is StudyConclusionCode.INDETERMINATE_NO_CONTROL
    assert conclusion.text == (
        "Study indeterminate: no valid control level. "
        "Concordant pain at L3-L4, L5-S1 without a valid negative control."
    )


def test_concordant_pain_excluded_by_pressure_with_a_control_is_a_negative_study() -> None:
    conclusion = interpret_study(study(painless("L3-L4"), pain("L4-L5", 8, dp=60))).conclusion
    assert conclusion.code is StudyConclusionCode.NO_DISCOGENIC_LEVEL
    assert conclusion.valid_control
    assert conclusion.text == "No discogenic level identified."


def test_every_level_reason_has_a_kind() -> None:
    assert set(REASON_KINDS) == set(REASON_WORDS)


def test_every_conclusion_code_is_a_concept_of_the_product_code_system() -> None:
    concepts = [code for code, _, _ in PRODUCT_CODE_SYSTEMS["study-conclusion"].concepts]
    assert concepts == [code.value for code in StudyConclusionCode]


def test_valid_control_without_concordant_levels_is_any_control() -> None:
    with_control = interpret_study(study(painless("L4-L5"), painless("L5-S1"))).conclusion
    without = interpret_study(study(painless("L4-L5"))).conclusion
    assert with_control.valid_control and not without.valid_control
    assert with_control.code is without.code is StudyConclusionCode.NO_DISCOGENIC_LEVEL


def test_concordant_level_means_concordant_at_the_rule_sets_intensity() -> None:
    interpretation = interpret_study(
        study(pain("L3-L4", 6), pain("L4-L5", 7), pain("L5-S1", 8, response="discordant"))
    )
    assert [is_concordant_level(r) for r in interpretation.levels] == [False, True, False]


def test_cervical_conclusion_uses_the_same_wording() -> None:
    conclusion = interpret_study(study(painless("C4-C5"), pain("C5-C6", dallas=4))).conclusion
    assert conclusion.text == (
        "Discogenic level identified: C5-C6 (positive). Negative control: C4-C5."
    )


def test_a_suspected_level_not_entered_makes_the_study_indeterminate_not_negative() -> None:
    """Review F1: L3-L4 a painless control, the suspected L4-L5 not entered. An incomplete level
    is not assessable, not negative (clinical.md §1, §2a), so nothing says the study is negative."""
    conclusion = interpret_study(study(painless("L3-L4"), failed("L4-L5"))).conclusion
    assert conclusion.code is StudyConclusionCode.INDETERMINATE_SUSPECTED_NOT_ASSESSABLE
    assert conclusion.positive_levels == ()
    assert conclusion.text == (
        "Study indeterminate: suspected level not assessable. Suspected level not assessable: "
        "L4-L5 (not entered); the study cannot be called negative while a suspected disc is "
        "untested."
    )


def test_a_suspected_level_aborted_beside_a_negative_suspected_level_is_not_negative() -> None:
    conclusion = interpret_study(
        study(painless("L2-L3"), pain("L3-L4", 3, dp=30), failed("L4-L5", "aborted"))
    ).conclusion
    assert conclusion.code is StudyConclusionCode.INDETERMINATE_SUSPECTED_NOT_ASSESSABLE
    assert "L4-L5 (aborted)" in conclusion.text
    assert "Not assessable:" not in conclusion.text  # named once, with why


def test_a_control_not_entered_leaves_a_judged_negative_study_negative() -> None:
    """A control disc is there to validate a response; its failure does not leave a suspected
    disc untested."""
    control_failed = {**failed("L3-L4"), "role": "control"}
    conclusion = interpret_study(
        study(control_failed, pain("L4-L5", 3, dp=30), painless("L5-S1"))
    ).conclusion
    assert conclusion.code is StudyConclusionCode.NO_DISCOGENIC_LEVEL
    assert conclusion.text == "No discogenic level identified. Not assessable: L3-L4."
