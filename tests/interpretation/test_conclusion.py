"""The study conclusion: code, positive levels, control validity and the sentence."""

from __future__ import annotations

from plugin.interpretation import interpret_study
from plugin.interpretation.conclusion import is_concordant_level
from plugin.interpretation.results import StudyConclusionCode
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
    conclusion = interpret_study(study(failed("L4-L5"))).conclusion
    assert conclusion.code is StudyConclusionCode.INDETERMINATE_NO_CONTROL
    assert not conclusion.valid_control
    assert (
        conclusion.text
        == "Study indeterminate: no valid control level. No level could be assessed."
    )


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
