"""Pressure sensitivity of a level: which ΔP is classified, and when none is."""

from __future__ import annotations

from typing import Any

import pytest

from plugin.interpretation.pressure_sensitivity import classify_pressure_sensitivity
from plugin.interpretation.rule_set import default_rule_sets
from plugin.study.model import Level
from tests.interpretation.study_builder import failed, pain, painless


def lumbar_bands() -> Any:
    rule_set = default_rule_sets().get("lumbar-manometric")
    assert rule_set is not None
    return rule_set.thresholds.pressure_sensitivity


def classify(data: dict[str, Any]) -> str | None:
    found = classify_pressure_sensitivity(Level.model_validate(data), lumbar_bands())
    return found.value if found else None


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (pain("L4-L5", dp=5), "chemical"),
        (pain("L4-L5", 3, dp=5), "chemical"),  # classified whatever the intensity
        (pain("L4-L5", dp=30), "mechanical"),
        (pain("L4-L5", dp=70), "indeterminate-pressure"),
        (pain("L4-L5", dp=95), "normal"),
        (pain("L4-L5", 4, dp=30, response="discordant"), None),
        (pain("L4-L5", 4, dp=95, response="discordant"), "normal"),
        (pain("L4-L5", dp=None), None),
        (painless("L4-L5", peak_dp=90.1), "normal"),
        (painless("L4-L5", peak_dp=90), None),
        (painless("L4-L5"), None),  # no peak pressure recorded
        (failed("L4-L5"), None),
    ],
)
def test_classification(level: dict[str, Any], expected: str | None) -> None:
    assert classify(level) == expected


def test_no_bands_no_classification() -> None:
    assert classify_pressure_sensitivity(Level.model_validate(pain("C5-C6", dp=5)), ()) is None
