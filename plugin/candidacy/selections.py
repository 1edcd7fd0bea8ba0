"""FHIRPath selections over chart resources: the dates a criterion reads.

FHIR spreads one notion ("when did this happen") over choice elements (`effectiveDateTime`,
`effectivePeriod`, `effectiveInstant`) that differ per resource type; a FHIRPath expression per
type says it in the specification's own words. The expressions are member paths, and a chart
may hold thousands of records while a fhirpathpy evaluation costs tens of microseconds, so
they are read straight from the JSON: a bare element name as the element or its choice-typed
variants, a dotted path step by step with its choice element resolved through fhirpathpy's R4
model exactly as fhirpathpy resolves it (tests compare the two).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from plugin.candidacy.partial_dates import PartialDate, parse_partial_date
from plugin.conformance.r4_model import R4_MODEL

__all__ = ["Timing", "abatement_date", "first_date", "recorded_date", "started", "timing"]

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

#: Type suffixes of the R4 choice elements read by bare name (effective[x], onset[x],
#: performed[x], occurrence[x], abatement[x]): the date-like ones first, then those a reader
#: must skip.
_CHOICE_SUFFIXES = ("DateTime", "Period", "Instant", "Date", "Timing", "Age", "Range", "String")


#: The dateTime variant of each bare `_WHEN` element (`effectiveDateTime`), read first.
_DATE_TIME_KEY = {name: name + _CHOICE_SUFFIXES[0] for name in _WHEN.values() if "." not in name}


@cache
def _choice_keys(name: str) -> tuple[str, ...]:
    return tuple(name + suffix for suffix in _CHOICE_SUFFIXES)


@cache
def _member_path(resource_type: str, expression: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    """The JSON keys each step of a dotted member path reads on `resource_type`: one key, or
    for a choice element its typed keys in the model's order (the first present is read), as
    fhirpathpy navigates with the R4 model; each with its primitive-extension key (`start`,
    `_start`). Only the last step may be a choice element: a choice inside a path would make
    the next step's type depend on the data."""
    path = resource_type
    steps: list[tuple[str, ...]] = []
    names = expression.split(".")
    for position, name in enumerate(names):
        child = f"{path}.{name}"
        child = R4_MODEL["pathsDefinedElsewhere"].get(child, child)
        choices = R4_MODEL["choiceTypePaths"].get(child)
        if choices:
            if position != len(names) - 1:
                raise ValueError(f"{expression}: a choice element must be the last step")
            steps.append(tuple(name + kind for kind in choices))
        else:
            steps.append((name,))
        path = R4_MODEL["path2Type"].get(child, child)
    return tuple(tuple((key, f"_{key}") for key in keys) for keys in steps)


def _read_path(resource: Mapping[str, Any], expression: str) -> list[Any]:
    nodes: list[Any] = [resource]
    for keys in _member_path(str(resource.get("resourceType")), expression):
        if not nodes:
            break  # an absent step: nothing below it
        found: list[Any] = []
        for node in nodes:
            # A JSON object skips the (slow) Mapping check: a long chart reads thousands.
            if type(node) is not dict and not isinstance(node, Mapping):
                continue
            for key, extension_key in keys:
                # A primitive's extension (`_start`) is read beside its value; a variant
                # carrying either is the one present, as fhirpathpy reads it.
                value, extension = node.get(key), node.get(extension_key)
                if value is not None or extension is not None:
                    break
            else:
                continue  # none present
            if isinstance(value, list):
                found.extend(value)
            elif value is not None:
                found.append(value)
            if isinstance(extension, list):
                found.extend(extension)
            elif extension is not None:
                found.append(extension)
        nodes = found
    return nodes


def _select(resource: Mapping[str, Any], expression: str) -> list[Any]:
    """Evaluate `expression`. A bare element name (the common case: `effective`, `onset`,
    `issued`) is read as the element itself or its one choice-typed variant
    (`effectiveDateTime`, `effectivePeriod`, …); a dotted path step by step."""
    if "." not in expression:
        if expression in resource:
            return [resource[expression]]
        return [resource[key] for key in _choice_keys(expression) if key in resource]
    return _read_path(resource, expression)


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


#: A record whose date the chart does not give (one shared instance: Timing is immutable).
_UNDATED = Timing(None, None)


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
    if expression is None:
        return _UNDATED
    day = _charted_day(resource, expression)
    return Timing(day, None) if day is not None else _selected_timing(resource, expression)


def started(resource: Mapping[str, Any]) -> PartialDate | None:
    """`timing(resource).start`, without building a Timing in the common case: a long chart
    dates thousands of records."""
    expression = _WHEN.get(str(resource.get("resourceType")))
    if expression is None:
        return None
    day = _charted_day(resource, expression)
    return day if day is not None else _selected_timing(resource, expression).start


def _charted_day(resource: Mapping[str, Any], expression: str) -> PartialDate | None:
    """The common case read directly: a dateTime variant (`effectiveDateTime`), which _select
    would list first; None when the general reading must decide."""
    key = _DATE_TIME_KEY.get(expression)
    if key is None or expression in resource:
        return None
    charted = resource.get(key)
    return parse_partial_date(charted) if isinstance(charted, str) else None


def _selected_timing(resource: Mapping[str, Any], expression: str) -> Timing:
    for value in _select(resource, expression):
        found = _as_timing(value)
        if found is not None:
            return found
    return _UNDATED


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
