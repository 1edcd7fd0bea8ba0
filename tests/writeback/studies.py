"""Studies for the write-back tests: the shipped lumbar example, pointed at a chart's patient,
encounter and performer (the sandbox's lumbar candidate by default)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

from plugin.interpretation.rule_set import RuleSetLibrary, default_rule_sets
from plugin.resources import mappings_dir
from plugin.writeback import FrozenReport, freeze_study

ISSUED = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@cache
def _example() -> dict[str, Any]:
    path = mappings_dir().parent / "plugin" / "examples" / "lumbar-three-level.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@cache
def library() -> RuleSetLibrary:
    return default_rule_sets()


def lumbar_study(
    study_id: str = "study-1",
    *,
    patient: str = "lumbar-candidate",
    encounter: str | None = "lumbar-candidate-enc-02",
    performer: str = "spine-proceduralist",
) -> dict[str, Any]:
    """The three-level lumbar example as a chart's study (no reasons: they would need to
    resolve in the chart)."""
    study = copy.deepcopy(_example())
    study["id"] = study_id
    study["patient"] = {"reference": f"Patient/{patient}", "display": "Testpatient, Lumbar"}
    study["performer"] = {"reference": f"Practitioner/{performer}", "display": "Dr. Test"}
    if encounter is None:
        study.pop("encounter", None)
    else:
        study["encounter"] = f"Encounter/{encounter}"
    study["indication"] = {"text": study["indication"]["text"]}
    return study


def frozen(study: dict[str, Any], issued: datetime = ISSUED) -> FrozenReport:
    return freeze_study(study, issued=issued, document_type="18748-4", library=library()).report


@cache
def frozen_lumbar(study_id: str = "study-1") -> FrozenReport:
    """The lumbar example frozen once per test run (rendering takes a while)."""
    return frozen(lumbar_study(study_id))
