"""Thresholds compare exactly as written, and pressure bands cover ΔP once."""

from __future__ import annotations

import pytest

from plugin.interpretation.results import PressureSensitivity
from plugin.interpretation.thresholds import (
    Comparison,
    IntensityThreshold,
    PressureBand,
    PressureThreshold,
    VolumeThreshold,
    band_sequence_problem,
    pressure_band_for,
)


@pytest.mark.parametrize(
    ("operator", "measured", "holds"),
    [
        ("<", 14.9, True),
        ("<", 15.0, False),
        ("<=", 15.0, True),
        ("<=", 15.1, False),
        (">", 15.0, False),
        (">", 15.1, True),
        (">=", 14.9, False),
        (">=", 15.0, True),
        ("==", 15.0, True),
        ("==", 15.1, False),
    ],
)
def test_comparison_boundaries(operator: str, measured: float, holds: bool) -> None:
    threshold = PressureThreshold(value=15, operator=Comparison(operator))
    assert threshold.holds(measured) is holds


def test_descriptions_carry_operator_and_unit() -> None:
    assert IntensityThreshold(value=7, operator=Comparison.GE).describe() == "≥ 7/10"
    assert PressureThreshold(value=50, operator=Comparison.LT).describe() == "< 50 psi"
    assert VolumeThreshold(value=3.5, operator=Comparison.LE).describe() == "≤ 3.5 mL"
    assert IntensityThreshold(value=0, operator=Comparison.EQ).describe() == "= 0/10"


def test_whole_numbers_are_shown_without_a_decimal() -> None:
    assert IntensityThreshold(value=7, operator=Comparison.GE).shown == 7
    assert isinstance(IntensityThreshold(value=7, operator=Comparison.GE).shown, int)
    assert VolumeThreshold(value=3.5, operator=Comparison.LE).shown == 3.5


def band(
    sensitivity: str,
    lower: tuple[str, float] | None,
    upper: tuple[str, float] | None,
    any_response: bool = False,
) -> PressureBand:
    return PressureBand(
        sensitivity=PressureSensitivity(sensitivity),
        lower=PressureThreshold(value=lower[1], operator=Comparison(lower[0])) if lower else None,
        upper=PressureThreshold(value=upper[1], operator=Comparison(upper[0])) if upper else None,
        any_response=any_response,
    )


BANDS = (
    band("chemical", None, ("<", 15)),
    band("mechanical", (">=", 15), ("<", 50)),
    band("indeterminate-pressure", (">=", 50), ("<=", 90)),
    band("normal", (">", 90), None, any_response=True),
)


@pytest.mark.parametrize(
    ("delta_p", "concordant", "expected"),
    [
        (0.0, True, "chemical"),
        (14.9, True, "chemical"),
        (15.0, True, "mechanical"),
        (49.9, True, "mechanical"),
        (50.0, True, "indeterminate-pressure"),
        (90.0, True, "indeterminate-pressure"),
        (90.1, True, "normal"),
        (20.0, False, None),  # discordant pain below 90 is not classified
        (95.0, False, "normal"),  # pain of any kind only above 90: normal
    ],
)
def test_band_lookup(delta_p: float, concordant: bool, expected: str | None) -> None:
    found = pressure_band_for(BANDS, delta_p, concordant)
    assert (found.value if found else None) == expected


def test_the_shipped_band_layout_is_consistent() -> None:
    assert band_sequence_problem(BANDS) is None
    assert band_sequence_problem(()) is None


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ((band("chemical", (">=", 0), ("<", 15)), BANDS[3]), "first band must have no lower"),
        ((BANDS[0], band("normal", (">=", 15), ("<", 50))), "last band must have no upper"),
        (
            (band("chemical", None, ("<", 15), any_response=True), BANDS[1], BANDS[2], BANDS[3]),
            "only the last band may set any_response",
        ),
        (
            (BANDS[0], band("mechanical", (">", 15), ("<", 50)), BANDS[2], BANDS[3]),
            "band 1 must start where band 0 stops",
        ),
        ((BANDS[0], BANDS[1], band("normal", (">", 60), None)), "band 2 must start"),
    ],
)
def test_band_sequence_problems(bands: tuple[PressureBand, ...], message: str) -> None:
    problem = band_sequence_problem(bands)
    assert problem is not None and message in problem


def test_a_band_needs_a_bound_facing_the_right_way() -> None:
    with pytest.raises(ValueError, match="lower or an upper bound"):
        PressureBand(sensitivity=PressureSensitivity.NORMAL)
    with pytest.raises(ValueError, match=r"upper\.operator"):
        band("chemical", None, (">", 15))
    with pytest.raises(ValueError, match=r"lower\.value must not be above"):
        band("mechanical", (">=", 50), ("<", 15))
