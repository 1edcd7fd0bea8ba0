"""Thresholds of a rule set: a number with an explicit comparison, and pressure-sensitivity bands.

The comparison is data (``{"value": 7, "operator": ">="}``), so a site can tighten or loosen a
criterion without touching code, and the boundary ("< 15" is strictly below 15.0) is visible in
the rule-set file rather than buried in an ``if``.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, model_validator

from plugin.interpretation.number_text import number_text
from plugin.interpretation.results import PressureSensitivity

__all__ = [
    "Comparison",
    "GradeThreshold",
    "IntensityThreshold",
    "PressureBand",
    "PressureThreshold",
    "Threshold",
    "VolumeThreshold",
    "band_sequence_problem",
    "number_shown",
    "pressure_band_for",
]

# A threshold is a number a measurement is compared with: Infinity or NaN (which Python's JSON
# reader accepts) would make a comparison that always or never holds, and is not JSON either.
_STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Comparison(StrEnum):
    """How a measured value is compared with the threshold: ``value OP threshold``."""

    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "=="

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]

    def holds(self, measured: float, threshold: float) -> bool:
        return _OPERATORS[self](measured, threshold)


_SYMBOLS = {
    Comparison.LT: "<",
    Comparison.LE: "≤",
    Comparison.GT: ">",
    Comparison.GE: "≥",
    Comparison.EQ: "=",
}
_OPERATORS: dict[Comparison, Callable[[float, float], bool]] = {
    Comparison.LT: operator.lt,
    Comparison.LE: operator.le,
    Comparison.GT: operator.gt,
    Comparison.GE: operator.ge,
    Comparison.EQ: operator.eq,
}


def number_shown(value: float) -> int | float:
    """7.0 → 7, 3.5 → 3.5: thresholds and values read as the clinician wrote them."""
    return int(value) if float(value).is_integer() else value


class Threshold(BaseModel):
    """``measured OP value``; the unit is implied by the field that holds the threshold."""

    model_config = _STRICT

    value: Annotated[StrictFloat, Field(ge=0)]
    operator: Comparison

    #: How the unit follows a number in descriptions (" psi", " mL", "/10", "").
    unit_suffix: ClassVar[str] = ""

    def holds(self, measured: float) -> bool:
        return self.operator.holds(measured, self.value)

    def describe(self) -> str:
        """``"≥ 7/10"``, ``"< 50 psi"``."""
        return f"{self.operator.symbol} {number_text(self.value)}{self.unit_suffix}"

    @property
    def shown(self) -> int | float:
        return number_shown(self.value)


class IntensityThreshold(Threshold):
    """A pain intensity on the 0–10 numeric rating scale."""

    value: Annotated[StrictFloat, Field(ge=0, le=10)]
    unit_suffix: ClassVar[str] = "/10"


class PressureThreshold(Threshold):
    """A pressure above opening pressure (ΔP), in psi."""

    unit_suffix: ClassVar[str] = " psi"


class VolumeThreshold(Threshold):
    """An injected volume, in mL."""

    unit_suffix: ClassVar[str] = " mL"


class GradeThreshold(Threshold):
    """A modified Dallas grade, 0–5."""

    value: Annotated[StrictFloat, Field(ge=0, le=5)]


class PressureBand(BaseModel):
    """One pressure-sensitivity class: the ΔP range it covers.

    ``any_response`` false (the default) means the band classifies only a concordant pain
    response; true means it also classifies discordant pain and a disc that stayed painless up
    to that ΔP (Derby's "normal": no pain up to ΔP above 90 psi).
    """

    model_config = _STRICT

    sensitivity: PressureSensitivity
    lower: PressureThreshold | None = None
    upper: PressureThreshold | None = None
    any_response: StrictBool = False

    @model_validator(mode="after")
    def _bounds_face_the_right_way(self) -> PressureBand:
        if self.lower is None and self.upper is None:
            raise ValueError("a band needs a lower or an upper bound")
        if self.lower is not None and self.lower.operator not in (Comparison.GT, Comparison.GE):
            raise ValueError("lower.operator must be '>' or '>='")
        if self.upper is not None and self.upper.operator not in (Comparison.LT, Comparison.LE):
            raise ValueError("upper.operator must be '<' or '<='")
        if (
            self.lower is not None
            and self.upper is not None
            and self.lower.value > self.upper.value
        ):
            raise ValueError("lower.value must not be above upper.value")
        return self

    def contains(self, delta_p: float) -> bool:
        return (self.lower is None or self.lower.holds(delta_p)) and (
            self.upper is None or self.upper.holds(delta_p)
        )

    def describe(self) -> str:
        parts = [
            f"ΔP {bound.describe()}" for bound in (self.lower, self.upper) if bound is not None
        ]
        return " and ".join(parts)


def pressure_band_for(
    bands: tuple[PressureBand, ...], delta_p: float, concordant: bool
) -> PressureSensitivity | None:
    """The class of the band holding `delta_p`, if that band classifies this kind of response."""
    for band in bands:
        if band.contains(delta_p):
            return band.sensitivity if concordant or band.any_response else None
    return None


_MEETS = {Comparison.LT: Comparison.GE, Comparison.LE: Comparison.GT}


def band_sequence_problem(bands: tuple[PressureBand, ...]) -> str | None:
    """Why the bands do not cover ΔP ≥ 0 exactly once, low to high; None when they do.

    Each band must start where the previous one stops, with the complementary comparison
    (``< 15`` then ``>= 15``), so every ΔP falls in exactly one band.
    """
    if not bands:
        return None
    if bands[0].lower is not None:
        return "the first band must have no lower bound (it starts at ΔP 0)"
    if bands[-1].upper is not None:
        return "the last band must have no upper bound"
    # A painless disc says only that it stayed painless up to its peak: that classifies it in
    # the open-ended top band ("normal") and in no other.
    if any(band.any_response for band in bands[:-1]):
        return "only the last band may set any_response"
    for index, (below, above) in enumerate(itertools.pairwise(bands)):
        upper, lower = below.upper, above.lower
        if upper is None or lower is None:
            return f"band {index} needs an upper bound and band {index + 1} a lower bound"
        if upper.value != lower.value or _MEETS[upper.operator] is not lower.operator:
            return (
                f"band {index + 1} must start where band {index} stops, with the complementary "
                f"comparison (upper '< {upper.shown:g}' then lower '>= {upper.shown:g}', or "
                f"'<=' then '>'); got upper {upper.describe()} then lower {lower.describe()}"
            )
    return None
