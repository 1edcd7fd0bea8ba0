"""The sandbox's synthetic patients: fictional charts (a FHIR collection Bundle) and the
scenario each one exists to exercise.

Dates in the data file are relative — ``{"$days_ago": 420}``, ``{"$days_ago": 2, "$time":
"14:30:00"}``, ``{"$years_ago": 46, "$days_ago": 120}`` — and become real dates when loaded,
so the charts never go stale: a lab "8 days ago" is always recent enough.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "DecidingCriterion",
    "Scenario",
    "resolve_relative_dates",
    "scenarios",
    "synthetic_resources",
]


class DecidingCriterion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    criterion: str
    status: Literal["met", "not-met", "unknown", "needs-action"]
    why: str


class Scenario(BaseModel):
    """What a synthetic patient is for, and the candidacy outcome its chart should give."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    patient_id: str
    title: str
    summary: str
    region: Literal["lumbar", "cervical", "thoracic"]
    levels: list[str]
    expected_outcome: Literal["candidate", "not-candidate", "needs-review"]
    deciding: list[DecidingCriterion]


def _data(name: str) -> Any:
    text = resources.files("plugin.sandbox").joinpath("data", name).read_text(encoding="utf-8")
    return json.loads(text)


@cache
def _bundle() -> dict[str, Any]:
    bundle: dict[str, Any] = _data("synthetic-patients.json")
    return bundle


@cache
def scenarios() -> tuple[Scenario, ...]:
    """The scenarios, in the order the EHR page lists them."""
    return tuple(Scenario.model_validate(s) for s in _data("scenarios.json")["scenarios"])


def synthetic_resources(today: date) -> list[dict[str, Any]]:
    """Every resource of the synthetic charts, dates resolved against `today`."""
    resolved = resolve_relative_dates(_bundle(), today)
    return [entry["resource"] for entry in resolved["entry"]]


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def resolve_relative_dates(value: Any, today: date) -> Any:
    """A copy of `value` with every relative date object replaced by a FHIR date (or a
    dateTime in UTC when ``$time`` is given)."""
    if isinstance(value, list):
        return [resolve_relative_dates(item, today) for item in value]
    if not isinstance(value, dict):
        return value
    if value and all(key.startswith("$") for key in value):
        day = _years_before(today, int(value.get("$years_ago", 0)))
        day -= timedelta(days=int(value.get("$days_ago", 0)))
        time = value.get("$time")
        return f"{day.isoformat()}T{time}Z" if time else day.isoformat()
    return {key: resolve_relative_dates(item, today) for key, item in value.items()}
