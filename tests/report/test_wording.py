from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from plugin.report import wording
from plugin.study.model import Complication, Reference


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "—"), (0.0, "0"), (12.0, "12"), (12.5, "12.5"), (1.25, "1.25"), (-0.0, "0")],
)
def test_numbers_trim_trailing_zeros_and_missing_is_a_dash(value: float | None, shown: str) -> None:
    assert wording.psi(value) == shown
    assert wording.millilitres(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(14.996, "14.996"), (3.504, "3.504"), (49.99999, "49.99999"), (15.0001, "15.0001")],
)
def test_numbers_are_never_rounded_across_a_threshold(value: float, shown: str) -> None:
    """Review: ΔP 14.996 (below 15, definite) read "15", volume 3.504 (fails ≤ 3.5) read
    "3.5" — clinical.md §2: boundaries are exact, so the value is shown as recorded."""
    assert wording.psi(value) == shown
    assert wording.millilitres(value, unit=True) == f"{shown} mL"


def test_units_only_on_recorded_values() -> None:
    assert wording.psi(8.0, unit=True) == "8 psi"
    assert wording.millilitres(None, unit=True) == "—"
    assert wording.pain_intensity(0) == "0/10"
    assert wording.pain_intensity(None) == "—"


@pytest.mark.parametrize(
    ("offset", "shown"),
    [
        (timedelta(0), "2026-11-20 09:30 UTC"),
        (timedelta(hours=-5), "2026-11-20 09:30 UTC-05:00"),
        (timedelta(hours=5, minutes=30), "2026-11-20 09:30 UTC+05:30"),
    ],
)
def test_times_keep_their_recorded_offset(offset: timedelta, shown: str) -> None:
    assert wording.date_time(datetime(2026, 11, 20, 9, 30, tzinfo=timezone(offset))) == shown


def test_references_show_display_and_reference() -> None:
    assert wording.reference(Reference(reference="Patient/1", display="Doe")) == "Doe (Patient/1)"
    assert wording.reference(Reference(reference="Patient/1")) == "Patient/1"
    assert wording.reference(None) == "—"


def test_clean_removes_controls_and_lone_surrogates() -> None:
    assert wording.clean("a\x00b\x7f\tc\u0085 ") == "ab c"
    assert wording.clean("x\ud800y") == "x\ufffdy"
    assert wording.clean("e\u0301") == "é"  # composed, so every rendering shows one letter


def test_coded_values_read_as_product_displays() -> None:
    assert wording.nucleogram(4) == "4 (fissured)"
    assert wording.complication(Complication.model_validate("vasovagal")) == "Vasovagal reaction"
    assert wording.complication(Complication.model_validate("numb leg")) == "numb leg"
    assert (
        wording.complication(Complication(code="discitis", text="at L4-L5")) == "Discitis: at L4-L5"
    )
