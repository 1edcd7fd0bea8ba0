"""FHIR date search criteria evaluated on a resource, by the range semantics of FHIR R4
search §Prefixes as the sandbox server implements them — the reference the tests of cutting
searches into date windows check against."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from plugin.sandbox.fhir.date_ranges import (
    DateRange,
    Prefix,
    date_range,
    period_range,
    range_matches,
)


def observation_date(resource: Mapping[str, Any]) -> DateRange | None:
    """The range Observation's `date` parameter searches (effective[x]); None when absent."""
    for element in ("effectiveDateTime", "effectiveInstant"):
        if isinstance(resource.get(element), str):
            return date_range(resource[element])
    period = resource.get("effectivePeriod")
    if isinstance(period, dict) and ("start" in period or "end" in period):
        return period_range(period)
    return None


def date_criteria_hold(params: Iterable[tuple[str, str]], resource: Mapping[str, Any]) -> bool:
    """Whether `resource` satisfies every `date` / `date:missing` criterion in `params` (the
    others are ignored)."""
    target = observation_date(resource)
    for name, value in params:
        if name == "date:missing":
            if (target is None) != (value == "true"):
                return False
        elif name == "date":
            prefix: Prefix = value[:2]  # type: ignore[assignment]
            if target is None or not range_matches(prefix, date_range(value[2:]), target):
                return False
    return True
