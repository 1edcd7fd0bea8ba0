"""Lab results of the policy's labs: the Observation, its date and its value in the policy's
unit, or why the value cannot be read.

Values come from `valueQuantity` (with its comparator: ">60" is a value above 60), a numeric
`valueInteger`, or a `valueString` such as ">60" or "1.2". The unit must be one the policy
lists for the lab (UCUM code or unit text); the value is converted into the lab's display unit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from operator import itemgetter
from typing import Any

from plugin.candidacy.context import AssessmentContext
from plugin.candidacy.partial_dates import PartialDate
from plugin.candidacy.phrases import number
from plugin.candidacy.policy import Lab
from plugin.candidacy.selections import recorded_date, started
from plugin.interpretation.thresholds import Threshold

__all__ = ["LabResult", "lab_results", "meets"]

Resource = Mapping[str, Any]

_STRING_VALUE = re.compile(r"^\s*(<=|>=|<|>)?\s*(\d+(?:\.\d+)?)\s*(.*?)\s*$")
_RESULT_STATUS = frozenset({"final", "amended", "corrected", "preliminary"})


@dataclass(frozen=True, slots=True)
class _Reading:
    value: float | None  # in the lab's unit; None when it cannot be read
    comparator: str | None  # "<", "<=", ">", ">=" when the lab reported a bound
    problem: str | None  # why the value cannot be read


@dataclass(frozen=True)
class LabResult:
    """A dated result of a policy lab. Its value is read when first asked for: a long chart
    holds thousands of results, of which the assessment reads the latest few."""

    resource: Resource
    lab: Lab
    when: PartialDate

    @cached_property
    def _reading(self) -> _Reading:
        return _read(self.resource, self.lab)

    @property
    def value(self) -> float | None:
        """In the lab's unit; None when it cannot be read."""
        return self._reading.value

    @property
    def comparator(self) -> str | None:
        """ "<", "<=", ">", ">=" when the lab reported a bound."""
        return self._reading.comparator

    @property
    def problem(self) -> str | None:
        """Why the value cannot be read."""
        return self._reading.problem

    @property
    def shown(self) -> str:
        """ "25 mL/min/1.73 m²", "> 60 mL/min/1.73 m²", "1.1"."""
        if self.value is None:
            return "no readable value"
        bound = f"{self.comparator} " if self.comparator else ""
        unit = f" {self.lab.unit}" if self.lab.unit else ""
        return f"{bound}{number(self.value)}{unit}"

    @property
    def as_charted(self) -> str:
        """The value in the lab's own unit and, when the chart gave another, as charted too:
        "6.79 mg/dL (charted 600 umol/L)" — a clinician recognises the number from the report."""
        quantity = self.resource.get("valueQuantity")
        if self.value is None or not isinstance(quantity, Mapping):
            return self.shown
        raw, unit = quantity.get("value"), quantity.get("unit") or quantity.get("code")
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not isinstance(unit, str):
            return self.shown
        if unit == self.lab.unit or raw == self.value:
            return self.shown
        bound = f"{self.comparator} " if self.comparator else ""
        return f"{self.shown} (charted {bound}{number(raw)} {unit})"

    def age_days(self, today: date) -> int:
        """Days since the result, counted from the earliest day its date may mean."""
        return int((today - self.when.earliest).days)


def lab_results(context: AssessmentContext) -> dict[str, tuple[LabResult, ...]]:
    """Results per policy lab id, newest first (ties in a fixed order)."""
    # Each result beside its sort key, read once (a long chart holds thousands of results).
    found: dict[str, list[tuple[tuple[date, date, str], LabResult]]] = {
        lab.id: [] for lab in context.policy.labs
    }
    claimed: set[int] = set()  # an Observation is a result of the first lab it matches
    for lab in context.policy.labs:
        results = found[lab.id]
        for observation in context.matching("Observation", lab.value_set):
            value = observation.get("status")
            if id(observation) in claimed or (
                isinstance(value, str) and value not in _RESULT_STATUS  # registered: no result
            ):
                continue
            claimed.add(id(observation))
            when = started(observation) or recorded_date(observation)
            if when is None:
                continue  # an undated result cannot show the lab is recent
            key = (when.latest, when.earliest, str(observation.get("id", "")))
            results.append((key, LabResult(observation, lab, when)))
    return {
        lab_id: tuple(result for _, result in sorted(results, key=_sort_key, reverse=True))
        for lab_id, results in found.items()
    }


_sort_key = itemgetter(0)


def _read(observation: Resource, lab: Lab) -> _Reading:
    if observation.get("dataAbsentReason") is not None:
        return _Reading(None, None, "the result is marked absent")
    raw: Any
    comparator: str | None = None
    units: tuple[str, ...]  # the unit as UCUM code and as text, whichever the lab sent
    quantity = observation.get("valueQuantity")
    if isinstance(quantity, Mapping):
        raw = quantity.get("value")
        bound = quantity.get("comparator")
        comparator = bound if isinstance(bound, str) else None
        units = (str(quantity.get("code") or ""), str(quantity.get("unit") or ""))
    elif "valueInteger" in observation:
        raw, units = observation.get("valueInteger"), ("",)
    elif isinstance(observation.get("valueString"), str):
        match = _STRING_VALUE.match(observation["valueString"])
        if match is None:
            return _Reading(None, None, f"the value {observation['valueString']!r} is not a number")
        comparator, raw, units = match.group(1), float(match.group(2)), (match.group(3),)
    else:
        return _Reading(None, None, "the result has no numeric value")
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return _Reading(None, None, "the result has no numeric value")
    if any(units):
        factor = next((lab.units[u] for u in units if u and u in lab.units), None)
    else:
        factor = lab.units.get("")
    if factor is None:
        shown = next((u for u in units if u), "")
        return _Reading(
            None, None, f"its unit {shown!r} is not one the policy knows for {lab.title}"
        )
    try:
        value = float(raw) * factor
    except OverflowError:  # an integer beyond any float: JSON numbers have no limit
        value = math.inf
    if not math.isfinite(value):
        return _Reading(None, None, "the value is too large to be a result")
    return _Reading(value, comparator, None)


def meets(threshold: Threshold, result: LabResult) -> bool | None:
    """Whether the result meets the threshold; None when a reported bound (">20" against
    "< 30") leaves it open."""
    if result.value is None:
        return None
    value = result.value
    if result.comparator is None:
        return threshold.holds(value)
    # Sample the range the bound allows: just past it, and far beyond.
    step = max(abs(value), 1.0) * 1e-9
    if result.comparator in ("<", "<="):
        samples = (value if result.comparator == "<=" else value - step, -1e12)
    else:
        samples = (value if result.comparator == ">=" else value + step, 1e12)
    outcomes = {threshold.holds(sample) for sample in samples}
    return outcomes.pop() if len(outcomes) == 1 else None
