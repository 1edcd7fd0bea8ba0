"""`discogram schema`: the JSON Schema of a study documents every field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from plugin.cli import main
from plugin.cli.schema import study_json_schema
from plugin.study.levels import DISC_LEVELS
from plugin.study.model import (
    CERVICAL_VOLUME_WARNING_ML,
    INJECTED_VOLUME_LIMIT_ML,
    MANOMETER_LIMIT_PSI,
    PEAK_PRESSURE_WARNING_PSI,
)


def properties(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, definition in [("Study", schema), *schema["$defs"].items()]:
        for field, spec in definition.get("properties", {}).items():
            yield f"{name}.{field}", spec


def test_prints_the_schema_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == study_json_schema()
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "never 0 for unknown" in printed["description"]


def test_every_field_has_a_description() -> None:
    found = dict(properties(study_json_schema()))
    assert len(found) == 42
    assert [name for name, spec in found.items() if not spec.get("description")] == []


def test_level_lists_the_disc_levels_it_accepts() -> None:
    level = study_json_schema()["$defs"]["Level"]["properties"]["level"]
    assert level["enum"] == list(DISC_LEVELS)
    assert level["enum"][0] == "C2-C3" and level["enum"][-1] == "L5-S1"


def test_descriptions_give_units_and_the_limits_validation_applies() -> None:
    level = study_json_schema()["$defs"]["Level"]["properties"]
    peak = level["peak_pressure_psi"]["description"]
    assert "in psi" in peak
    assert f"0 to {MANOMETER_LIMIT_PSI:g}" in peak
    assert f"above {PEAK_PRESSURE_WARNING_PSI:g} psi is flagged" in peak
    total = level["total_volume_ml"]["description"]
    assert f"0 to {INJECTED_VOLUME_LIMIT_ML:g}" in total
    assert f"above {CERVICAL_VOLUME_WARNING_ML:g} mL is flagged" in total
    assert "0–10 numeric rating scale" in level["pain_intensity"]["description"]
    for field in ("opening_pressure_psi", "onset_volume_ml", "dallas_grade", "leak"):
        assert "Empty" in level[field]["description"]
