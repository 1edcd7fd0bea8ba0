"""The results form applied to the study document: typed text converted where it can be,
kept as typed where it cannot, only the posted discs and sections touched."""

import pytest

from smart_app.workflow.entry_fields import LEVEL_FIELDS_BY_NAME as FIELDS
from smart_app.workflow.level_form import (
    apply_level_form,
    form_text,
    performed_parts,
    typed_value,
)


@pytest.mark.parametrize(
    ("field", "raw", "value"),
    [
        ("opening_pressure_psi", " 12.5 ", 12.5),
        ("opening_pressure_psi", "12,5", 12.5),  # a decimal comma keyboard
        ("opening_pressure_psi", "12", 12.0),
        ("opening_pressure_psi", "1O", "1O"),  # kept for validation to name
        ("opening_pressure_psi", "nan", "nan"),
        ("opening_pressure_psi", "", None),
        ("pain_intensity", "7", 7),
        # Refused as typed, and shown back as typed: "must be a whole number (got '7.0')".
        ("pain_intensity", "7.5", "7.5"),
        ("pain_intensity", "7.0", "7.0"),
        ("pain_intensity", "1234567", 1234567),  # "must be at most 10 (got 1234567)"
        # A whole number no float holds exactly stays itself, not 1e+20.
        ("peak_pressure_psi", "99999999999999999999", 99999999999999999999),
        ("peak_pressure_psi", "600", 600.0),
        ("pain_intensity", "seven", "seven"),
        ("dallas_grade", "4", 4),
        ("pain_response", "concordant", "concordant"),
        ("pain_location", "  left buttock ", "left buttock"),
        # Plain decimal numbers only: what Python's float() and int() also read is kept as
        # typed, for validation to name ("must be a number (got '1_8')").
        ("opening_pressure_psi", "1_8", "1_8"),
        ("opening_pressure_psi", "1e1", "1e1"),
        ("opening_pressure_psi", "1e308", "1e308"),
        ("opening_pressure_psi", "inf", "inf"),
        ("opening_pressure_psi", "-Infinity", "-Infinity"),
        ("opening_pressure_psi", "1.2.3", "1.2.3"),
        ("opening_pressure_psi", ".5", 0.5),
        ("opening_pressure_psi", "-3", -3.0),  # the model names the range
        ("opening_pressure_psi", "１２.５", 12.5),  # full-width digits: still digits
        ("pain_intensity", "1e1", "1e1"),
        ("pain_intensity", "1_0", "1_0"),
        ("pain_intensity", "７", 7),
    ],
)
def test_typed_values(field: str, raw: str, value: object) -> None:
    assert typed_value(FIELDS[field], raw) == value
    assert type(typed_value(FIELDS[field], raw)) is type(value)


def test_numbers_show_without_a_trailing_zero() -> None:
    assert form_text(12.0) == "12" and form_text(1.25) == "1.25" and form_text(None) == ""
    assert form_text("1O") == "1O"
    # Never an exponent: what was typed in digits is shown in digits.
    assert form_text(99999999999999999999) == "99999999999999999999"
    assert form_text(1e20) == "100000000000000000000" and form_text(1e-05) == "0.00001"


def test_only_posted_discs_change_and_an_empty_field_clears_its_value() -> None:
    document = {
        "levels": [
            {"level": "L4-L5", "role": "suspected", "order": 2, "pain_response": "none"},
            {"level": "L5-S1", "role": "control", "order": 1, "pain_intensity": 0},
        ]
    }
    form = {
        "lv-L4-L5-present": "1",
        "lv-L4-L5-opening_pressure_psi": "9,5",
        "lv-L4-L5-pain_intensity": "",
        "lv-L5-S1-pain_intensity": "5",  # its marker is missing: not on this form
    }
    updated = apply_level_form(document, form)
    l4, l5 = updated["levels"]
    assert l4 == {"level": "L4-L5", "role": "suspected", "order": 2, "opening_pressure_psi": 9.5}
    assert l5 == document["levels"][1]
    assert document["levels"][0]["pain_response"] == "none"  # the input is not changed


def test_study_fields_time_zone_and_complications() -> None:
    form = {
        "study-fields": "1",
        "performed-local": "2026-11-20T09:30",
        "performed-offset": "-05:00",
        "post_discogram_ct": " Grade 4 fissure ",
        "complication-vasovagal": "on",
        "complication-other-text": "nausea",
    }
    updated = apply_level_form({"levels": []}, form)
    assert updated["performed"] == "2026-11-20T09:30:00-05:00"
    assert updated["post_discogram_ct"] == "Grade 4 fissure"
    assert updated["complications"] == [
        {"code": "vasovagal"},
        {"code": "other", "text": "nausea"},
    ]
    assert performed_parts(updated["performed"]) == ("2026-11-20T09:30:00", "-05:00")
    # No offset from the browser: UTC, as the page says.
    utc = apply_level_form({"levels": []}, {**form, "performed-offset": ""})
    assert utc["performed"] == "2026-11-20T09:30:00+00:00"
    # A time the browser would not send is kept whole for validation to name.
    odd = apply_level_form({"levels": []}, {**form, "performed-local": "yesterday"})
    assert odd["performed"] == "yesterday" and performed_parts("yesterday") == ("yesterday", "")
    cleared = apply_level_form(updated, {"study-fields": "1"})
    assert "performed" not in cleared and "complications" not in cleared


def test_an_impossible_calendar_date_is_shown_back_as_typed() -> None:
    form = {
        "study-fields": "1",
        "performed-local": "2026-13-45T10:00",
        "performed-offset": "+01:00",
    }
    updated = apply_level_form({"levels": []}, form)
    assert updated["performed"] == "2026-13-45T10:00+01:00"  # no seconds added
    assert performed_parts(updated["performed"]) == ("2026-13-45T10:00", "+01:00")
