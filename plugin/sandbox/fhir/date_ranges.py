"""FHIR dates as time ranges, and the date search prefixes (FHIR R4 search §Prefixes), pure.

Every FHIR date is a range at its precision: ``2024`` is the whole year, ``2024-03-01`` the
whole day, a Period from its start to its end (open ends reach to the beginning or end of
time). Ranges are half-open ``[start, end)`` in UTC; a value without a time zone is taken as
UTC, the server's zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Literal

__all__ = [
    "PREFIXES",
    "DateRange",
    "Prefix",
    "date_range",
    "period_range",
    "range_matches",
]

Prefix = Literal["eq", "ne", "gt", "lt", "ge", "le", "sa", "eb"]
PREFIXES: tuple[Prefix, ...] = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")

_BEGINNING = datetime.min.replace(tzinfo=UTC)
_END = datetime.max.replace(tzinfo=UTC)
_DATE = re.compile(
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,9}))?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?"
)


@dataclass(frozen=True, slots=True)
class DateRange:
    start: datetime  # inclusive
    end: datetime  # exclusive

    def contains(self, other: DateRange) -> bool:
        return self.start <= other.start and other.end <= self.end


def _add_months(moment: datetime, months: int) -> datetime:
    total = moment.month - 1 + months
    return moment.replace(year=moment.year + total // 12, month=total % 12 + 1)


# Cached: a search reads the same stored dates on every request, and parsing them was a
# large share of a search's cost. DateRange is immutable, so sharing results is safe.
@lru_cache(maxsize=65_536)
def date_range(text: str) -> DateRange:
    """The range a FHIR date, dateTime or instant covers. Raises ValueError if malformed."""
    match = _DATE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a FHIR date or dateTime")
    parts = match.groupdict()
    zone: timezone = UTC
    if parts["zone"] and parts["zone"] != "Z":
        sign = 1 if parts["zone"][0] == "+" else -1
        hours, minutes = int(parts["zone"][1:3]), int(parts["zone"][4:6])
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    year = int(parts["year"])
    if parts["month"] is None:
        start = datetime(year, 1, 1, tzinfo=zone)
        return DateRange(start.astimezone(UTC), start.replace(year=year + 1).astimezone(UTC))
    month = int(parts["month"])
    if parts["day"] is None:
        start = datetime(year, month, 1, tzinfo=zone)
        return DateRange(start.astimezone(UTC), _add_months(start, 1).astimezone(UTC))
    day = int(parts["day"])
    if parts["hour"] is None:
        start = datetime(year, month, day, tzinfo=zone)
        return DateRange(start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC))
    hour, minute = int(parts["hour"]), int(parts["minute"])
    if parts["second"] is None:
        start = datetime(year, month, day, hour, minute, tzinfo=zone)
        return DateRange(start.astimezone(UTC), (start + timedelta(minutes=1)).astimezone(UTC))
    fraction = parts["fraction"] or ""
    micro = int((fraction + "000000")[:6]) if fraction else 0
    start = datetime(year, month, day, hour, minute, int(parts["second"]), micro, tzinfo=zone)
    # The precision of the last digit given: a whole second, or one unit of the fraction.
    digits = min(len(fraction), 6)
    step = timedelta(microseconds=10 ** (6 - digits)) if fraction else timedelta(seconds=1)
    return DateRange(start.astimezone(UTC), (start + step).astimezone(UTC))


def period_range(period: dict[str, Any]) -> DateRange:
    """A FHIR Period: from its start to its end, an absent end meaning "still going"."""
    start = date_range(period["start"]).start if period.get("start") else _BEGINNING
    end = date_range(period["end"]).end if period.get("end") else _END
    return DateRange(start, end)


def range_matches(prefix: Prefix, searched: DateRange, target: DateRange) -> bool:
    """Whether a resource's date range `target` satisfies ``<prefix><searched>``."""
    if prefix == "eq":
        return searched.contains(target)
    if prefix == "ne":
        return not searched.contains(target)
    if prefix == "gt":
        return target.end > searched.end
    if prefix == "lt":
        return target.start < searched.start
    if prefix == "ge":
        return target.end > searched.end or searched.contains(target)
    if prefix == "le":
        return target.start < searched.start or searched.contains(target)
    if prefix == "sa":
        return target.start >= searched.end
    return target.end <= searched.start  # eb
