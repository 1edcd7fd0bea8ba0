"""Small pieces of the sentences explanations are made of, so every criterion names records,
dates and thresholds the same way: "Low back pain (Condition/c1)", "≥ 3 months", "2025-01-10 →
2025-04-02".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from plugin.candidacy.chart import reference_of
from plugin.candidacy.evidence import resource_label
from plugin.interpretation.thresholds import Threshold, number_shown

__all__ = [
    "listing",
    "months",
    "named",
    "number",
    "sentence",
    "threshold_words",
]


def named(resource: Mapping[str, Any], label: str | None = None) -> str:
    """A record by its label and reference: "apixaban 5 mg tablet (MedicationRequest/m1)"."""
    reference = reference_of(resource)
    text = label or resource_label(resource)
    return f"{text} ({reference})" if reference else text


def months(count: int) -> str:
    return f"{count} month" if count == 1 else f"{count} months"


def number(value: float) -> str:
    shown = number_shown(round(value, 2))
    return f"{shown:g}" if isinstance(shown, float) else str(shown)


def threshold_words(threshold: Threshold, unit: str = "") -> str:
    """ "< 30 mL/min/1.73 m²", "> 1.5"."""
    suffix = f" {unit}" if unit else ""
    return f"{threshold.operator.symbol} {number(threshold.value)}{suffix}"


def listing(items: Iterable[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    values = list(items)
    if len(values) <= 1:
        return "".join(values)
    return ", ".join(values[:-1]) + " and " + values[-1]


def sentence(text: str) -> str:
    """Capitalise the first letter: explanations may begin with a drug name ("naproxen …")."""
    return text[:1].upper() + text[1:]


def read_from(day: date) -> str:
    """How a chart read from `day` on (`Chart.observations_from`) is named where nothing was
    found in it: "none in the chart" would be false when an older record was left unread."""
    return f"dated from {day.isoformat()} on was read (older ones cannot count)"
