"""Invariants of interpretation over generated studies (hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from plugin.interpretation import criterion_ids, interpret_study
from plugin.interpretation.reasons import REASON_KINDS, ReasonKind
from plugin.interpretation.results import (
    FHIR_INTERPRETATION_BY_CATEGORY,
    CriterionStatus,
    FhirInterpretation,
    LevelCategory,
    LevelResult,
    StudyConclusionCode,
)
from plugin.interpretation.rule_set import default_rule_sets
from plugin.study.levels import DISC_LEVELS
from plugin.study.model import LevelRole, Study
from plugin.study.validation import parse_study

# Values around every threshold of both rule sets, plus anything in range.
tenths = st.integers(min_value=0, max_value=1200).map(lambda n: n / 10)
delta_ps = st.sampled_from([0.0, 5.0, 14.9, 15.0, 15.1, 30.0, 49.9, 50.0, 90.0, 90.1]) | tenths
volumes = st.sampled_from([0.3, 1.0, 3.5, 3.6]) | st.integers(0, 60).map(lambda n: n / 10)


def often(values: st.SearchStrategy[float]) -> st.SearchStrategy[float | None]:
    """A value recorded four times in five."""
    return st.integers(0, 4).flatmap(lambda n: values if n else st.none())


@st.composite
def level_data(draw: st.DrawFn, name: str) -> dict[str, Any]:
    result = draw(st.sampled_from(["completed"] * 6 + ["not-entered", "aborted"]))
    data: dict[str, Any] = {"level": name, "technical_result": result}
    if result != "completed" and draw(st.booleans()):
        return data
    # Painless discs and severe pain are the interesting cases; any intensity can occur.
    intensity = draw(st.sampled_from([0, 0, 7, 8, 9]) | st.integers(0, 10))
    response = "none" if intensity == 0 else draw(st.sampled_from(["concordant", "discordant"]))
    data |= {"pain_intensity": intensity, "pain_response": response}
    opening = draw(often(st.integers(0, 300).map(lambda n: n / 10)))
    if opening is not None:
        data["opening_pressure_psi"] = opening
    top = opening or 0.0
    if intensity > 0:
        delta_p = draw(often(delta_ps))
        if delta_p is not None and opening is not None:
            top = data["onset_pressure_psi"] = round(opening + delta_p, 1)
        volume = draw(often(volumes))
        if volume is not None:
            data["onset_volume_ml"] = volume
    if draw(st.booleans()):
        data["peak_pressure_psi"] = round(top + draw(tenths), 1)
    data["dallas_grade"] = draw(st.none() | st.integers(0, 5))
    return data


@st.composite
def studies(draw: st.DrawFn) -> Study:
    # Runs of neighbouring discs, so adjacent controls actually occur.
    # Half the runs start low in the spine, where most discography is done.
    start = draw(st.integers(0, len(DISC_LEVELS) - 1) | st.integers(15, len(DISC_LEVELS) - 1))
    run = DISC_LEVELS[start : start + draw(st.integers(1, 6))]
    kept = [name for name in run if draw(st.integers(0, 4))] or [run[0]]
    levels = [draw(level_data(name)) for name in kept]
    document: dict[str, Any] = {"levels": levels}
    forced = draw(
        st.sampled_from([None, None, None, "lumbar-manometric", "cervical-triangulation"])
    )
    # A forced rule set must apply to every level (it is refused otherwise).
    rule_set = default_rule_sets().get(forced) if forced else None
    if rule_set is not None and all(rule_set.applies_to.specificity(name) for name in kept):
        document["rule_set"] = forced
    return parse_study(document).study


SETTINGS = settings(max_examples=300, deadline=None)


@SETTINGS
@given(studies())
def test_intensity_below_seven_is_never_positive(study: Study) -> None:
    interpretation = interpret_study(study)
    for level in study.levels:
        result = interpretation.result_for(level.level)
        assert result is not None
        if level.pain_intensity is not None and level.pain_intensity < 7:
            assert not result.positive
            assert result.category in (LevelCategory.NEGATIVE, LevelCategory.NOT_ASSESSABLE)


@SETTINGS
@given(studies())
def test_never_positive_without_a_valid_control(study: Study) -> None:
    interpretation = interpret_study(study)
    conclusion = interpretation.conclusion
    for result in interpretation.levels:
        if result.positive:
            assert result.controls, result.level
            assert all(study.level_named(c) is not None for c in result.controls)
    if not conclusion.valid_control:
        assert conclusion.positive_levels == ()
        assert conclusion.code is not StudyConclusionCode.DISCOGENIC_LEVEL_IDENTIFIED
    identified = conclusion.code is StudyConclusionCode.DISCOGENIC_LEVEL_IDENTIFIED
    assert identified == bool(conclusion.positive_levels)


@SETTINGS
@given(studies())
def test_a_study_is_called_negative_only_when_no_level_awaits_a_control_or_a_value(
    study: Study,
) -> None:
    """clinical.md §2c: "no discogenic level identified" only when every assessable level is
    negative (or excluded by its own recorded values) and concordant pain, if any, has a valid
    control; never while a level is undecided."""
    interpretation = interpret_study(study)
    if interpretation.conclusion.code is StudyConclusionCode.NO_DISCOGENIC_LEVEL:
        assert any(r.category is not LevelCategory.NOT_ASSESSABLE for r in interpretation.levels)
        # An incomplete suspected level is not assessable, not negative (clinical.md §1).
        assert not any(
            r.role is LevelRole.SUSPECTED and r.category is LevelCategory.NOT_ASSESSABLE
            for r in interpretation.levels
        )
        concordant = [r for r in interpretation.levels if concordant_at_high_intensity(r)]
        assert not concordant or any(r.controls for r in concordant)
        for result in interpretation.levels:
            assert not result.positive
            if result.category is LevelCategory.INDETERMINATE:
                assert REASON_KINDS[result.reason or ""] is ReasonKind.EXCLUDED, result.level


def concordant_at_high_intensity(result: LevelResult) -> bool:
    """clinical.md §2a/§2b: a completed level with concordant pain at the rule set's high
    intensity, whatever its pressure, volume or Dallas grade."""
    status = {c.id: c.status for c in result.criteria}
    return all(
        status[name] is CriterionStatus.MET for name in ("completed", "concordant", "intensity")
    )


@SETTINGS
@given(studies())
def test_a_study_whose_every_concordant_level_lacks_a_control_is_indeterminate(
    study: Study,
) -> None:
    """clinical.md §2c: "study indeterminate: no valid control level" when every concordant
    level lacks a valid control, whether or not its own values exclude it."""
    interpretation = interpret_study(study)
    concordant = [r for r in interpretation.levels if concordant_at_high_intensity(r)]
    if concordant and not any(r.controls for r in concordant):
        assert interpretation.conclusion.code is StudyConclusionCode.INDETERMINATE_NO_CONTROL
        assert not interpretation.conclusion.valid_control


@SETTINGS
@given(studies())
def test_a_level_not_completed_is_not_assessable(study: Study) -> None:
    interpretation = interpret_study(study)
    for level in study.levels:
        result = interpretation.result_for(level.level)
        assert result is not None
        assert (result.category is LevelCategory.NOT_ASSESSABLE) == (not level.completed)
        if not level.completed:
            assert result.interpretation is FhirInterpretation.IND
            assert result.controls == ()
            # and it never serves as a control for another level
            assert all(level.level not in other.controls for other in interpretation.levels)


@SETTINGS
@given(studies(), st.randoms(use_true_random=False))
def test_deterministic_and_independent_of_level_order(study: Study, random: Any) -> None:
    shuffled_levels = list(study.levels)
    random.shuffle(shuffled_levels)
    shuffled = study.model_copy(update={"levels": shuffled_levels})
    first = interpret_study(study)
    assert interpret_study(study) == first
    assert interpret_study(shuffled) == first


@SETTINGS
@given(studies())
def test_every_result_lists_every_criterion_of_its_rule_set(study: Study) -> None:
    library = default_rule_sets()
    interpretation = interpret_study(study, library)
    used = {ref.id for ref in interpretation.rule_sets}
    assert used == {result.rule_set.id for result in interpretation.levels}
    for result in interpretation.levels:
        rule_set = library.get(result.rule_set.id)
        assert rule_set is not None and rule_set.version == result.rule_set.version
        assert [c.id for c in result.criteria] == list(criterion_ids(rule_set))
        assert all(c.explanation.endswith(".") and c.description for c in result.criteria)
        assert result.interpretation is FHIR_INTERPRETATION_BY_CATEGORY[result.category]
        assert result.summary.startswith(f"{result.level}: ")
