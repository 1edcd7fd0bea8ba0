"""The study while it is typed: problems, and the interpretation of the complete discs."""

from smart_app.workflow.study_check import LevelProgress, check_study

CONTROL = {
    "level": "L3-L4",
    "role": "control",
    "order": 1,
    "opening_pressure_psi": 12.0,
    "pain_intensity": 0,
    "pain_response": "none",
}
TARGET = {
    "level": "L4-L5",
    "order": 2,
    "opening_pressure_psi": 10.0,
    "onset_pressure_psi": 18.0,
    "onset_volume_ml": 1.0,
    "pain_intensity": 8,
    "pain_response": "concordant",
}


def test_a_complete_study_is_interpreted_as_the_report_will_be() -> None:
    check = check_study(
        {
            "levels": [
                CONTROL,
                TARGET,
                {"level": "L5-S1", "order": 3, "pain_intensity": 0, "pain_response": "none"},
            ]
        }
    )
    assert check.complete and not check.provisional and check.problems == ()
    assert check.interpretation is not None
    assert check.interpretation.conclusion.code.value == "discogenic-level-identified"
    assert {s.progress for s in check.levels} == {LevelProgress.INTERPRETED}


def test_discs_not_started_or_with_problems_wait_and_the_rest_is_provisional() -> None:
    check = check_study(
        {"levels": [CONTROL, TARGET, {"level": "L5-S1", "order": 3}], "performed": "soon"}
    )
    assert not check.complete and check.provisional
    progress = {s.level: s.progress for s in check.levels}
    assert progress == {
        "L3-L4": LevelProgress.INTERPRETED,
        "L4-L5": LevelProgress.INTERPRETED,
        "L5-S1": LevelProgress.AWAITING,
    }
    # "Required" on a disc nobody has started on is not shown; the bad time is.
    shown = {p.field for p in check.shown_problems}
    assert shown == {"performed"}
    assert {p.field for p in check.problems} > shown
    target = next(s for s in check.levels if s.level == "L4-L5")
    assert target.result is not None and target.result.controls == ("L3-L4",)


def test_a_disc_with_a_wrong_value_is_left_out_until_corrected() -> None:
    wrong = {**TARGET, "peak_pressure_psi": 5.0}
    check = check_study({"levels": [CONTROL, wrong]})
    progress = {s.level: s.progress for s in check.levels}
    assert progress["L4-L5"] is LevelProgress.NEEDS_CORRECTION
    assert {p.field for p in check.shown_problems} == {"levels[1].peak_pressure_psi"}
    assert check.interpretation is not None
    assert [r.level for r in check.interpretation.levels] == ["L3-L4"]


def test_nothing_to_interpret_yet() -> None:
    check = check_study({"levels": [{"level": "L4-L5"}]})
    assert check.interpretation is None and not check.provisional
