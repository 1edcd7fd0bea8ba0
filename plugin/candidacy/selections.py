"""FHIRPath selections over chart resources: the dates a criterion reads.

FHIR spreads one notion ("when did this happen") over choice elements (`effectiveDateTime`,
`effectivePeriod`, `effectiveInstant`) that differ per resource type; a FHIRPath expression per
type says it in the specification's own words. Expressions are compiled once (on first use)
with fhirpathpy's R4 model, which resolves the choice types. They run only on resources that a
cheap code or text match has already selected, because a chart may hold thousands of
Observations and an evaluation costs tens of microseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import fhirpathpy

from plugin.candidacy.partial_dates import PartialDate, parse_partial_date
from plugin.conformance.r4_model import R4_MODEL

__all__ = ["Timing", "abatement_date", "first_date", "recorded_date", "timing"]

#: The element saying when each resource type happened. A choice element named without its
#: type suffix (`effective`) selects whichever of its types the resource carries — a dateTime,
#: an instant or a Period — as FHIRPath resolves choice types with the R4 model.
_WHEN: dict[str, str] = {
    "Observation": "effective",
    "Condition": "onset",
    "Procedure": "performed",
    "Encounter": "period",
    "ServiceRequest": "occurrence",
    "MedicationStatement": "effective",
    "MedicationRequest": "dosageInstruction.timing.repeat.bounds",
    "DiagnosticReport": "effective",
    "ImagingStudy": "started",
    "AllergyIntolerance": "onset",
}

#: When the resource was written down: the fallback when it does not say when it happened.
_RECORDED: dict[str, str] = {
    "Observation": "issued",
    "Condition": "recordedDate",
    "ServiceRequest": "authoredOn",
    "MedicationStatement": "dateAsserted",
    "MedicationRequest": "authoredOn",
    "DiagnosticReport": "issued",
    "AllergyIntolerance": "recordedDate",
}

#: When a condition ended, if it did (a dateTime, or a Period whose end — else start — counts).
_ABATEMENT = "abatement"

Compiled = Callable[..., list[Any]]

#: Type suffixes of the R4 choice elements read here (effective[x], onset[x], performed[x],
#: occurrence[x], abatement[x]): the date-like ones first, then those a reader must skip.
_CHOICE_SUFFIXES = ("DateTime", "Period", "Instant", "Date", "Timing", "Age", "Range", "String")


@cache
def _compiled(expression: str) -> Compiled:
    compiled: Compiled = fhirpathpy.compile(expression, R4_MODEL)
    return compiled


def _select(resource: Mapping[str, Any], expression: str) -> list[Any]:
    """Evaluate `expression`. A bare element name (the common case: `effective`, `onset`,
    `issued`) is read straight from the JSON — the element itself or its one choice-typed
    variant (`effectiveDateTime`, `effectivePeriod`, …) — because a chart holds thousands of
    resources and a FHIRPath evaluation costs ~30 µs; paths go through FHIRPath."""
    if "." not in expression:
        if expression in resource:
            return [resource[expression]]
        return [
            resource[key]
            for key in (expression + suffix for suffix in _CHOICE_SUFFIXES)
            if key in resource
        ]
    return _compiled(expression)(dict(resource))


def first_date(resource: Mapping[str, Any], expression: str) -> PartialDate | None:
    """The first result of `expression` read as a FHIR date (None when absent or malformed)."""
    for value in _select(resource, expression):
        parsed = parse_partial_date(value)
        if parsed is not None:
            return parsed
    return None


@dataclass(frozen=True, slots=True)
class Timing:
    """When a resource happened as charted; `start` None means the chart does not say."""

    start: PartialDate | None
    end: PartialDate | None


def _as_timing(value: Any) -> Timing | None:
    """A dateTime / instant / date string, or a Period; None for other types (an onsetAge, a
    boundsDuration) and malformed values."""
    if isinstance(value, str):
        day = parse_partial_date(value)
        return Timing(day, None) if day is not None else None
    if isinstance(value, Mapping) and ("start" in value or "end" in value):
        start, end = parse_partial_date(value.get("start")), parse_partial_date(value.get("end"))
        if start is None and end is None:
            return None
        return Timing(start or end, end)  # a period with only an end still dates the event
    return None


def timing(resource: Mapping[str, Any]) -> Timing:
    """Start and end of what the resource records (an Observation's effective time, a
    Procedure's performed period, an Encounter's period, …)."""
    expression = _WHEN.get(str(resource.get("resourceType")))
    if expression is not None:
        for value in _select(resource, expression):
            found = _as_timing(value)
            if found is not None:
                return found
    return Timing(None, None)


def recorded_date(resource: Mapping[str, Any]) -> PartialDate | None:
    """The date the resource was recorded or issued, where its type has one."""
    expression = _RECORDED.get(str(resource.get("resourceType")))
    return first_date(resource, expression) if expression else None


def abatement_date(resource: Mapping[str, Any]) -> PartialDate | None:
    """When a Condition abated, from `abatementDateTime` or `abatementPeriod`."""
    for value in _select(resource, _ABATEMENT):
        found = _as_timing(value)
        if found is not None:
            return found.end or found.start
    return None
