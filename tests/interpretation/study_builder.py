"""Small study documents for interpretation tests, written as a clinician would describe them.

`pain("L4-L5", 8, dp=10)` is a completed level with concordant pain 8/10 beginning 10 psi
above an opening pressure of 10 psi; `painless("L3-L4")` a completed painless level.
"""

from __future__ import annotations

from typing import Any

from plugin.study.model import Study
from plugin.study.validation import parse_study

__all__ = ["failed", "pain", "painless", "study", "study_data"]

OPENING_PSI = 10.0


def pain(
    level: str,
    intensity: int = 8,
    dp: float | None = 10.0,
    *,
    response: str = "concordant",
    volume: float | None = 1.0,
    dallas: int | None = None,
    opening: float | None = OPENING_PSI,
    peak: float | None = None,
) -> dict[str, Any]:
    """A completed level with pain; ``dp=None`` leaves both pressures unrecorded."""
    data: dict[str, Any] = {
        "level": level,
        "pain_intensity": intensity,
        "pain_response": response,
    }
    if dp is not None and opening is not None:
        data["opening_pressure_psi"] = opening
        data["onset_pressure_psi"] = round(opening + dp, 3)
    if peak is not None:
        data["peak_pressure_psi"] = peak
    if volume is not None:
        data["onset_volume_ml"] = volume
        data["total_volume_ml"] = volume + 0.5
    if dallas is not None:
        data["dallas_grade"] = dallas
    return data


def painless(
    level: str, *, peak_dp: float | None = None, dallas: int | None = None
) -> dict[str, Any]:
    """A completed level where injection provoked no pain; `peak_dp` is the peak ΔP reached."""
    data: dict[str, Any] = {
        "level": level,
        "role": "control",
        "pain_intensity": 0,
        "pain_response": "none",
    }
    if peak_dp is not None:
        data["opening_pressure_psi"] = OPENING_PSI
        data["peak_pressure_psi"] = round(OPENING_PSI + peak_dp, 3)
    if dallas is not None:
        data["dallas_grade"] = dallas
    return data


def failed(level: str, result: str = "not-entered") -> dict[str, Any]:
    """A level whose injection was not completed."""
    data: dict[str, Any] = {"level": level, "technical_result": result}
    if result == "aborted":
        data["abort_reason"] = "vasovagal episode"
    return data


def study_data(*levels: dict[str, Any], rule_set: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "levels": [{**level, "order": index} for index, level in enumerate(levels, start=1)]
    }
    if rule_set is not None:
        data["rule_set"] = rule_set
    return data


def study(*levels: dict[str, Any], rule_set: str | None = None) -> Study:
    """A validated study: the builders must produce input the product accepts."""
    return parse_study(study_data(*levels, rule_set=rule_set)).study
