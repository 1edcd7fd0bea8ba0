"""FHIR dates as charted: ``2025``, ``2025-03``, ``2025-03-14`` or a full dateTime/instant.

A partial date names a range of days (``2025-03`` is any day in March 2025), so it is kept as
its earliest and latest day. Criteria compare with both: a threshold met for either reading is
certain; one met for only one reading asks for a more precise date instead of guessing.
Calendar arithmetic (months with day clamping) and the wording of durations live here too,
because every criterion measures spans in the same way.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache

__all__ = [
    "PartialDate",
    "Precision",
    "add_months",
    "duration_words",
    "months_between",
    "parse_partial_date",
]

# FHIR date / dateTime / instant (http://hl7.org/fhir/R4/datatypes.html#dateTime); the chart's
# local calendar day is what clinicians count, so spans ignore the time part. The moment itself
# is kept (`PartialDate.instant`) to order two records of the same day.
_FHIR_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?$")
_TIME = re.compile(r"T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?")


def _day_shaped(text: str) -> bool:
    """``YYYY-MM-DD`` alone or with a time the general pattern accepts."""
    if len(text) < 10 or text[4] != "-" or text[7] != "-":
        return False
    return len(text) == 10 or (text[10] == "T" and _TIME.fullmatch(text, 10) is not None)


class Precision(StrEnum):
    YEAR = "year"
    MONTH = "month"
    DAY = "day"


@dataclass(frozen=True, slots=True, order=True)
class PartialDate:
    """A charted date: the first and last day it may mean, and the text as charted (the day
    part). `instant` is the exact moment when the chart gave a time with its zone; it orders
    records of the same day and takes no part in comparing dates."""

    earliest: date
    latest: date
    text: str
    precision: Precision
    instant: datetime | None = field(default=None, compare=False)

    @classmethod
    def of(cls, day: date) -> PartialDate:
        return cls(day, day, day.isoformat(), Precision.DAY)

    def __str__(self) -> str:
        return self.text


def parse_partial_date(value: object) -> PartialDate | None:
    """A FHIR date, dateTime or instant string → `PartialDate`; None for anything else
    (a missing element or a malformed date is data the chart lacks, not an error)."""
    if not isinstance(value, str):
        return None
    return _parsed(value)


# A long chart repeats the same dates (a panel's results share one timestamp, a day holds many
# records): each distinct string is read once. PartialDate is immutable, so sharing is safe.
@lru_cache(maxsize=16_384)
def _parsed(value: str) -> PartialDate | None:
    text = value.strip()
    # Most charted dates are a day or a dateTime: read those without the general pattern
    # (a chart may hold thousands). Anything else, or any doubt, takes the general path.
    if _day_shaped(text):
        try:
            exact = date.fromisoformat(text[:10])
        except ValueError:
            pass
        else:
            return PartialDate(exact, exact, text[:10], Precision.DAY, _instant(text))
    match = _FHIR_DATE.match(text)
    if match is None:
        return None
    year, month, day = (int(part) if part else None for part in match.groups())
    assert year is not None  # the pattern requires it
    try:
        if month is None:
            return PartialDate(date(year, 1, 1), date(year, 12, 31), f"{year:04d}", Precision.YEAR)
        if day is None:
            last = calendar.monthrange(year, month)[1]
            return PartialDate(
                date(year, month, 1),
                date(year, month, last),
                f"{year:04d}-{month:02d}",
                Precision.MONTH,
            )
        exact = date(year, month, day)
    except ValueError:
        return None  # month 13, 30 February
    return PartialDate(exact, exact, exact.isoformat(), Precision.DAY)


def _instant(text: str) -> datetime | None:
    """The moment a dateTime names; None for a bare day, or a time without a zone (FHIR
    requires one with a time: without it the moment is not known)."""
    if len(text) == 10:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def add_months(day: date, months: int) -> date:
    """Calendar months later (earlier when negative), clamped to the month's last day:
    2025-01-31 + 1 month = 2025-02-28; and to the calendar's first or last day (years 1 to
    9999): a chart may be dated 9999-12 and still be compared with today."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    if year < date.min.year:
        return date.min
    if year > date.max.year:
        return date.max
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_between(start: date, end: date) -> int:
    """Whole calendar months from `start` to `end` (0 when `end` is earlier): the largest n
    with ``add_months(start, n) <= end``, so "≥ 3 months" holds exactly when this is ≥ 3."""
    if end <= start:
        return 0
    months = (end.year - start.year) * 12 + end.month - start.month
    while months > 0 and add_months(start, months) > end:
        months -= 1
    return months


def duration_words(start: date, end: date) -> str:
    """A span as a clinician says it: days under two weeks, weeks under three months, then
    months and years. Whole units, rounded down, with "more than" when the span is longer than
    the words: 12 months and a day is "more than 12 months", never "12 months", so the words
    neither overstate a span nor contradict a judgement that it exceeds a limit."""
    days = (end - start).days
    if days < 14:
        return _plural(max(days, 0), "day")
    months = months_between(start, end)
    if months < 3:
        weeks, rest = divmod(days, 7)
        return _more_than(rest > 0) + _plural(weeks, "week")
    longer = add_months(start, months) < end
    if months < 24:
        return _more_than(longer) + _plural(months, "month")
    years, rest = divmod(months, 12)
    return (
        _more_than(longer) + _plural(years, "year") + (f" {_plural(rest, 'month')}" if rest else "")
    )


def _more_than(longer: bool) -> str:
    return "more than " if longer else ""


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"
