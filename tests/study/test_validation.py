"""Study validation: every broken rule reported at once, naming the field and the rule."""

import contextlib
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugin import examples
from plugin.errors import StudyInvalidError
from plugin.study.model import (
    INJECTED_VOLUME_LIMIT_ML,
    MANOMETER_LIMIT_PSI,
    ComplicationCode,
    TechnicalResult,
)
from plugin.study.validation import parse_study, study_from_json


def level(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "level": "L4-L5",
        "role": "suspected",
        "order": 1,
        "pain_intensity": 8,
        "pain_response": "concordant",
        "opening_pressure_psi": 10.0,
        "onset_pressure_psi": 20.0,
        "peak_pressure_psi": 40.0,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def control(**overrides: Any) -> dict[str, Any]:
    return (
        level(
            level="L3-L4",
            role="control",
            order=2,
            pain_intensity=0,
            pain_response="none",
            onset_pressure_psi=None,
        )
        | overrides
    )


def problems_of(document: Any) -> list[tuple[str, str]]:
    with pytest.raises(StudyInvalidError) as caught:
        parse_study(document)
    return [(p.field, p.rule) for p in caught.value.problems]


def test_valid_study_parses_with_derived_values() -> None:
    validated = parse_study({"patient": "Patient/1", "levels": [level(), control()]})
    first = validated.study.levels[0]
    assert first.delta_p_psi == 10.0
    assert validated.study.patient is not None
    assert validated.study.patient.reference == "Patient/1"
    assert validated.warnings == ()


def test_level_spelling_is_normalized() -> None:
    validated = parse_study({"levels": [level(level="l4/5"), control()]})
    assert validated.study.levels[0].level == "L4-L5"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"level": "L6-S1"}, ("levels[0].level", "unknown-level")),
        ({"pain_intensity": 11}, ("levels[0].pain_intensity", "range")),
        ({"pain_intensity": -1}, ("levels[0].pain_intensity", "range")),
        ({"pain_intensity": 7.5}, ("levels[0].pain_intensity", "int_type")),
        ({"pain_intensity": "8"}, ("levels[0].pain_intensity", "int_type")),
        ({"opening_pressure_psi": -1.0}, ("levels[0].opening_pressure_psi", "range")),
        ({"total_volume_ml": -0.5}, ("levels[0].total_volume_ml", "range")),
        ({"opening_pressure_psi": "ten"}, ("levels[0].opening_pressure_psi", "float_type")),
        ({"onset_pressure_psi": 5.0}, ("levels[0].onset_pressure_psi", "onset-below-opening")),
        ({"peak_pressure_psi": 15.0}, ("levels[0].peak_pressure_psi", "peak-below-onset")),
        (
            {"onset_volume_ml": 2.0, "total_volume_ml": 1.0},
            ("levels[0].onset_volume_ml", "onset-volume-above-total"),
        ),
        ({"pain_response": "none"}, ("levels[0].pain_response", "pain-without-response")),
        (
            {"pain_intensity": 0, "onset_pressure_psi": None},
            ("levels[0].pain_intensity", "concordant-without-pain"),
        ),
        (
            # Review F3: discordant means pain of another quality or place was provoked.
            {"pain_intensity": 0, "pain_response": "discordant", "onset_pressure_psi": None},
            ("levels[0].pain_intensity", "discordant-without-pain"),
        ),
        (
            {"pain_intensity": 4, "pain_response": "none", "onset_pressure_psi": None},
            ("levels[0].pain_response", "pain-without-response"),
        ),
        ({"nucleogram": 0}, ("levels[0].nucleogram", "range")),
        ({"nucleogram": 6}, ("levels[0].nucleogram", "range")),
        ({"dallas_grade": 6}, ("levels[0].dallas_grade", "range")),
        ({"dallas_grade": -1}, ("levels[0].dallas_grade", "range")),
        ({"pain_response": "maybe"}, ("levels[0].pain_response", "enum")),
        ({"role": "target"}, ("levels[0].role", "enum")),
        ({"technical_result": "failed"}, ("levels[0].technical_result", "enum")),
        ({"leak": "everywhere"}, ("levels[0].leak", "enum")),
        ({"colour": "blue"}, ("levels[0].colour", "extra_forbidden")),
        ({"pain_response": None}, ("levels[0].pain_response", "required-when-completed")),
        ({"pain_intensity": None}, ("levels[0].pain_intensity", "required-when-completed")),
        ({"order": 0}, ("levels[0].order", "range")),
        ({"level": 45}, ("levels[0].level", "string_type")),
    ],
)
def test_each_rule_names_its_field(overrides: dict[str, Any], expected: tuple[str, str]) -> None:
    assert expected in problems_of({"levels": [level(**overrides), control()]})


def test_level_given_twice() -> None:
    found = problems_of({"levels": [level(), level(order=3), control()]})
    assert ("levels[1].level", "duplicate-level") in found


def test_same_level_spelled_differently_is_still_twice() -> None:
    found = problems_of({"levels": [level(), level(level="l4/l5", order=3), control()]})
    assert ("levels[1].level", "duplicate-level") in found


def test_injection_order_given_twice() -> None:
    found = problems_of({"levels": [level(), control(order=1)]})
    assert ("levels[1].order", "duplicate-order") in found


def test_all_problems_are_reported_at_once() -> None:
    found = problems_of(
        {
            "patient": 5,
            "performed": "2026-01-01T10:00:00",
            "levels": [
                level(pain_intensity=12),
                control(dallas_grade=9, opening_pressure_psi="x"),
                level(level="Q9", order=7),
            ],
        }
    )
    fields = {field for field, _ in found}
    assert {
        "patient",
        "performed",
        "levels[0].pain_intensity",
        "levels[1].dallas_grade",
        "levels[1].opening_pressure_psi",
        "levels[2].level",
    } <= fields


def test_a_type_error_does_not_hide_a_cross_field_rule() -> None:
    found = problems_of({"levels": [level(pain_intensity="high", onset_pressure_psi=2.0)]})
    assert ("levels[0].pain_intensity", "int_type") in found
    assert ("levels[0].onset_pressure_psi", "onset-below-opening") in found


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ([], ("", "type")),
        ("L4-L5", ("", "type")),
        ({}, ("levels", "missing")),
        ({"levels": []}, ("levels", "min-items")),
        ({"levels": "L4-L5"}, ("levels", "list_type")),
        ({"levels": [3]}, ("levels[0]", "model_type")),
        (
            {"levels": [level()], "performed": "yesterday"},
            ("performed", "datetime_from_date_parsing"),
        ),
        (
            {"levels": [level()], "performed": "2026-03-01T09:00:00"},
            ("performed", "timezone_aware"),
        ),
        (
            {"levels": [level()], "patient": "Patient 1"},
            ("patient.reference", "string_pattern_mismatch"),
        ),
        ({"levels": [level()], "id": "has space"}, ("id", "string_pattern_mismatch")),
    ],
)
def test_top_level_rules(document: Any, expected: tuple[str, str]) -> None:
    assert expected in problems_of(document)


def test_non_json_is_a_problem_not_a_traceback() -> None:
    with pytest.raises(StudyInvalidError) as caught:
        study_from_json('{"levels": [')
    (problem,) = caught.value.problems
    assert problem.rule == "json"
    assert "line 1" in problem.message


def test_messages_name_the_value_and_the_limit() -> None:
    with pytest.raises(StudyInvalidError) as caught:
        parse_study({"levels": [level(pain_intensity=12), control()]})
    assert "levels[0].pain_intensity: must be at most 10 (got 12)" in [
        str(p) for p in caught.value.problems
    ]


MEASUREMENTS = (
    "opening_pressure_psi",
    "onset_pressure_psi",
    "peak_pressure_psi",
    "onset_volume_ml",
    "total_volume_ml",
)


@pytest.mark.parametrize("field", MEASUREMENTS)
@pytest.mark.parametrize(("value", "shown"), [(math.inf, "Infinity"), (-math.inf, "-Infinity")])
def test_an_infinite_measurement_is_refused_on_its_own(
    field: str, value: float, shown: str
) -> None:
    with pytest.raises(StudyInvalidError) as caught:
        parse_study({"levels": [level(**{field: value}), control()]})
    # One problem: the cross-field rules do not compare a value that is no number at all.
    assert [str(p) for p in caught.value.problems] == [
        f"levels[0].{field}: must be a finite number (got {shown})"
    ]


def test_infinity_and_nan_in_study_json_are_refused() -> None:
    text = json.dumps({"levels": [level(), control()]}).replace("40.0", "Infinity")
    text = text.replace('"opening_pressure_psi": 10.0', '"opening_pressure_psi": NaN', 1)
    with pytest.raises(StudyInvalidError) as caught:
        study_from_json(text)
    assert [(p.field, p.rule) for p in caught.value.problems] == [
        ("levels[0].opening_pressure_psi", "finite_number"),
        ("levels[0].peak_pressure_psi", "finite_number"),
        ("levels[1].peak_pressure_psi", "finite_number"),
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "peak_pressure_psi",
            1e308,
            "must be at most 500 psi (got 1e+308): more than a discography manometer reads; "
            "check the number and that it is in psi (not kPa or mmHg)",
        ),
        (
            "total_volume_ml",
            500,
            "must be at most 20 mL (got 500): more than a disc takes; check the number and "
            "that it is in mL",
        ),
    ],
)
def test_a_value_no_manometer_or_disc_gives_is_refused_with_the_limit(
    field: str, value: float, message: str
) -> None:
    with pytest.raises(StudyInvalidError) as caught:
        parse_study({"levels": [level(**{field: value}), control()]})
    assert f"levels[0].{field}: {message}" in [str(p) for p in caught.value.problems]


def test_the_hard_limits_themselves_are_accepted() -> None:
    validated = parse_study(
        {
            "levels": [
                level(
                    peak_pressure_psi=MANOMETER_LIMIT_PSI, total_volume_ml=INJECTED_VOLUME_LIMIT_ML
                ),
                control(),
            ]
        }
    )
    assert validated.study.levels[0].peak_pressure_psi == MANOMETER_LIMIT_PSI


def warnings_of(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [(w.field, w.rule) for w in parse_study(document).warnings]


def test_suspicious_values_are_warnings_not_errors() -> None:
    found = warnings_of(
        {
            "levels": [
                level(level="C5-C6", total_volume_ml=1.6, peak_pressure_psi=101.0),
                level(level="C6-C7", order=2, pain_intensity=3, pain_response="discordant"),
            ]
        }
    )
    assert ("levels[0].total_volume_ml", "cervical-volume-high") in found
    assert ("levels[0].peak_pressure_psi", "peak-pressure-high") in found
    assert ("levels", "no-control-level") in found


def test_limits_themselves_do_not_warn() -> None:
    found = warnings_of(
        {
            "levels": [
                level(level="C5-C6", total_volume_ml=1.5, peak_pressure_psi=100.0),
                control(level="C4-C5"),
            ]
        }
    )
    assert found == []


def test_lumbar_volume_above_cervical_limit_does_not_warn() -> None:
    assert warnings_of({"levels": [level(total_volume_ml=3.0), control()]}) == []


def test_incomplete_level_with_measurements_and_no_reason_warns() -> None:
    found = warnings_of({"levels": [level(technical_result="aborted"), control()]})
    assert ("levels[0].technical_result", "measurements-on-incomplete-level") in found
    assert ("levels[0].abort_reason", "abort-reason-missing") in found


def test_not_entered_level_needs_no_pain_values() -> None:
    validated = parse_study(
        {
            "levels": [
                {"level": "L5-S1", "order": 1, "technical_result": "not-entered"},
                control(),
            ]
        }
    )
    assert validated.study.levels[0].technical_result is TechnicalResult.NOT_ENTERED
    assert validated.study.levels[0].pain_intensity is None


def test_complications_accept_codes_and_free_text() -> None:
    validated = parse_study(
        {"levels": [level(), control()], "complications": ["vasovagal", "Transient nausea"]}
    )
    first, second = validated.study.complications
    assert first.code is ComplicationCode.VASOVAGAL
    assert (second.code, second.text) == (ComplicationCode.OTHER, "Transient nausea")


def test_example_study_is_valid() -> None:
    text = (Path(examples.__file__).parent / "lumbar-three-level.json").read_text(encoding="utf-8")
    assert study_from_json(text).warnings == ()


intensities = st.integers(min_value=-5, max_value=15)
pressures = st.one_of(st.none(), st.floats(min_value=-10, max_value=200, allow_nan=False))


@given(intensity=intensities, opening=pressures, onset=pressures)
def test_validation_either_accepts_consistent_values_or_names_the_rule(
    intensity: int, opening: float | None, onset: float | None
) -> None:
    document = {
        "levels": [
            level(
                pain_intensity=intensity,
                opening_pressure_psi=opening,
                onset_pressure_psi=onset,
                peak_pressure_psi=None,
            ),
            control(),
        ]
    }
    consistent = (
        1 <= intensity <= 10
        and (opening is None or opening >= 0)
        and (onset is None or onset >= 0)
        and (opening is None or onset is None or onset >= opening)
    )
    try:
        validated = parse_study(document)
    except StudyInvalidError as exc:
        assert not consistent
        assert all(p.field.startswith("levels[0].") for p in exc.problems)
    else:
        assert consistent
        result = validated.study.levels[0]
        if opening is not None and onset is not None:
            assert result.delta_p_psi is not None
            assert result.delta_p_psi >= 0


@given(st.text(max_size=40))
def test_arbitrary_text_never_raises_anything_but_study_invalid(text: str) -> None:
    with contextlib.suppress(StudyInvalidError):
        study_from_json(text)


def test_json_round_trip_of_a_valid_study_is_stable() -> None:
    validated = parse_study({"levels": [level(), control()], "patient": "Patient/1"})
    dumped = validated.study.model_dump(mode="json", exclude_none=True)
    again = parse_study(json.loads(json.dumps(dumped)))
    assert again.study == validated.study


NOW = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("performed", "rule"),
    [
        ("2031-01-01T10:00:00+01:00", "performed-in-future"),
        ("2026-12-07T15:10:00+01:00", "performed-in-future"),  # 14:10 UTC: beyond the skew
        ("1900-01-01T10:00:00+00:00", "performed-too-early"),
        ("1949-12-31T23:00:00+00:00", "performed-too-early"),
    ],
)
def test_a_performed_date_in_the_future_or_long_past_is_refused(performed: str, rule: str) -> None:
    with pytest.raises(StudyInvalidError) as caught:
        parse_study({"levels": [level(), control()], "performed": performed}, now=NOW)
    (problem,) = caught.value.problems
    assert (problem.field, problem.rule) == ("performed", rule)
    assert performed in problem.message  # names what was typed, and the rule
    assert ("later than now" if rule == "performed-in-future" else "1950-01-01") in problem.message


@pytest.mark.parametrize(
    "performed",
    [
        "2026-12-07T15:04:00+01:00",  # 14:04 UTC: within a few minutes of clock skew
        "2026-07-01T10:00:00+02:00",
        "1950-01-01T00:00:00+00:00",
    ],
)
def test_a_performed_date_between_1950_and_now_is_accepted(performed: str) -> None:
    study = parse_study({"levels": [level(), control()], "performed": performed}, now=NOW).study
    assert study.performed is not None


@pytest.mark.parametrize(
    "performed",
    ["2026-11-20T09:30:00+15:00", "2026-11-20T09:30:00+14:01", "2026-11-20T09:30:00-14:30"],
)
def test_a_time_zone_offset_beyond_14_hours_is_refused(performed: str) -> None:
    with pytest.raises(StudyInvalidError) as caught:
        parse_study({"levels": [level(), control()], "performed": performed}, now=NOW)
    (problem,) = caught.value.problems
    assert (problem.field, problem.rule) == ("performed", "utc-offset-range")
    assert performed in problem.message
    assert "between -14:00 and +14:00" in problem.message and "FHIR R4 dateTime" in problem.message


@pytest.mark.parametrize("performed", ["2026-11-20T09:30:00+14:00", "2026-11-20T09:30:00-14:00"])
def test_the_widest_time_zones_in_use_are_accepted(performed: str) -> None:
    study = parse_study({"levels": [level(), control()], "performed": performed}, now=NOW).study
    assert study.performed is not None


def test_without_now_only_the_earliest_date_is_checked() -> None:
    """Validation reads no clock: a caller that gives no "now" gets no future check."""
    assert parse_study({"levels": [level(), control()], "performed": "2031-01-01T10:00:00Z"})
    assert problems_of({"levels": [level(), control()], "performed": "1900-01-01T10:00:00Z"}) == [
        ("performed", "performed-too-early")
    ]


def test_a_future_date_is_reported_with_the_other_problems() -> None:
    document = {"levels": [level(pain_intensity=12), control()], "performed": "2031-01-01T10:00Z"}
    with pytest.raises(StudyInvalidError) as caught:
        parse_study(document, now=NOW)
    rules = {(p.field, p.rule) for p in caught.value.problems}
    assert ("performed", "performed-in-future") in rules
    assert ("levels[0].pain_intensity", "range") in rules


def test_discordant_without_pain_says_the_rule() -> None:
    """Review F3: a 'discordant' level at intensity 0 was counted as a painless control."""
    with pytest.raises(StudyInvalidError) as caught:
        parse_study(
            {
                "levels": [
                    level(),
                    control(pain_response="discordant", pain_intensity=0),
                ]
            }
        )
    (problem,) = caught.value.problems
    assert problem.field == "levels[1].pain_intensity"
    assert problem.message == (
        "a discordant response means pain was provoked, so it needs a pain intensity above 0; "
        "record response 'none' when no pain was provoked"
    )


def test_painless_none_at_zero_is_accepted() -> None:
    validated = parse_study({"levels": [level(), control(pain_response="none", pain_intensity=0)]})
    assert validated.study.levels[1].pain_intensity == 0


def test_dallas_grade_5_without_a_leak_is_a_warning() -> None:
    """Review F4: clinical.md §3 defines grade 5 as a tear with contrast leaking outside the
    annulus; "to verify", so a warning, not an error."""
    validated = parse_study(
        {"levels": [level(dallas_grade=5, leak="none"), control(dallas_grade=5, leak="epidural")]}
    )
    [warning] = validated.warnings
    assert (warning.field, warning.rule) == ("levels[0].leak", "dallas-5-without-leak")
    assert "full-thickness tear with contrast leaking outside the annulus" in warning.message


@pytest.mark.parametrize(
    "fields", [{"dallas_grade": 5}, {"dallas_grade": 4, "leak": "none"}, {"leak": "none"}]
)
def test_dallas_grade_5_with_the_leak_unrecorded_or_a_lower_grade_does_not_warn(
    fields: dict[str, Any],
) -> None:
    assert warnings_of({"levels": [level(**fields), control()]}) == []
