"""Deciding what a chart already holds after a write whose answer was lost (a timeout after
the server committed, a 5xx after commit, a dropped connection).

For a create, a search on the product's identifier tells. For an update, `If-Match` makes a
resend fail (412) once our first attempt was applied, so the resource is read back and
compared with what we sent; where the EHR reports no versions, an update first checks that
the chart's copy is exactly what we last sent. For a transaction, the identifiers of its
entries tell whether it was applied — all of them, none (send it again) or, on a server that
is not atomic, some.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from typing import Any

__all__ = [
    "TransactionFinding",
    "content_matches",
    "transaction_finding",
    "unchanged_since_written",
]

# Elements a server fills or rewrites on its own.
_SERVER_OWNED = frozenset({"id", "meta", "text"})

# A FHIR R4 dateTime or instant with a time (the datatypes page's regex, the time part made
# mandatory): only such a value names one instant, which a server may store in another zone
# (UTC 'Z' for an offset) or with more or fewer fractional-second digits. Dates and partial
# dates ('2026', '2026-03', '2026-03-01') name no instant and compare as strings, as does a
# time without a zone (invalid in R4).
_INSTANT = re.compile(
    r"(?P<year>[0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
    r"-(?P<month>0[1-9]|1[0-2])-(?P<day>0[1-9]|[1-2][0-9]|3[0-1])"
    r"T(?P<hour>[01][0-9]|2[0-3]):(?P<minute>[0-5][0-9]):(?P<second>[0-5][0-9]|60)"
    r"(\.(?P<fraction>[0-9]+))?"
    r"(?P<zone>Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
)


class TransactionFinding(StrEnum):
    APPLIED = "applied"  # every entry is in the chart: the transaction was committed
    ABSENT = "absent"  # none is: it was not, and may be sent again
    PARTIAL = "partial"  # some are: the server is not atomic; finish entry by entry, flagged


def transaction_finding(present: Mapping[str, bool]) -> TransactionFinding:
    """Classify a transaction from whether each of its entries (by step key) is in the chart.
    Entries that cannot be checked are simply not in `present`."""
    if not present:
        return TransactionFinding.ABSENT
    found = sum(1 for value in present.values() if value)
    if found == len(present):
        return TransactionFinding.APPLIED
    return TransactionFinding.ABSENT if found == 0 else TransactionFinding.PARTIAL


def content_matches(server_copy: Mapping[str, Any], sent: Mapping[str, Any]) -> bool:
    """Whether the server's copy holds everything we sent (it may add elements of its own,
    and keeps its own id, meta and narrative)."""
    return _agrees(_clinical(server_copy), _clinical(sent), server_may_add=True)


def unchanged_since_written(server_copy: Mapping[str, Any], sent: Mapping[str, Any]) -> bool:
    """Whether the server's copy is still exactly what we last sent, the elements a server
    owns (id, meta, narrative) aside: on an EHR that reports no versions (no `If-Match`), this
    is how an update tells that someone changed the resource in the chart meanwhile. `sent`
    must be the body as it went out — references resolved as they were sent, placeholders
    left out then left out here too — since every element counts: one added in the chart (an
    extension, a note), removed or changed (a reference re-pointed) is a change that the
    update, a whole-resource PUT, would overwrite. Values are compared by what they mean, not
    how the server spells them (see `_same_value`)."""
    return _agrees(_clinical(server_copy), _clinical(sent), server_may_add=False)


def _clinical(resource: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k not in _SERVER_OWNED}


def _agrees(have: Any, want: Any, *, server_may_add: bool) -> bool:
    """Whether `have` holds `want`: the same elements (or, where the server may add, at least
    those of `want`), lists item by item in order, values alike by `_same_value`."""
    if isinstance(want, Mapping):
        if not isinstance(have, Mapping):
            return False
        if not server_may_add and have.keys() != want.keys():
            return False
        return all(
            key in have and _agrees(have[key], value, server_may_add=server_may_add)
            for key, value in want.items()
        )
    if isinstance(want, list):
        return (
            isinstance(have, list)
            and len(have) == len(want)
            and all(
                _agrees(h, w, server_may_add=server_may_add)
                for h, w in zip(have, want, strict=True)
            )
        )
    return _same_value(have, want)


def _same_value(have: Any, want: Any) -> bool:
    """Whether two JSON values mean the same in FHIR. Beyond equality, only the lexical forms
    servers legitimately normalise: a dateTime/instant as the same instant in another zone or
    with other fractional digits, and a decimal in another lexical form."""
    if isinstance(have, str) and isinstance(want, str):
        if have == want:
            return True
        moment = _instant(want)
        return moment is not None and _instant(have) == moment
    have_number, want_number = _number(have), _number(want)
    if have_number is not None or want_number is not None:
        return have_number == want_number
    return bool(have == want)


def _instant(text: str) -> tuple[datetime, Decimal] | None:
    """The instant a dateTime/instant with a time names, as (UTC second, fraction); None for
    any other string. The fraction is kept apart, as a Decimal, because datetime keeps only
    microseconds and FHIR allows any number of digits. A leap second (':60') or an invalid
    date has no datetime: it stays None and so compares as a string."""
    match = _INSTANT.fullmatch(text)
    if match is None:
        return None
    zone_text = match["zone"]
    if zone_text == "Z":
        zone = UTC
    else:
        sign = -1 if zone_text[0] == "-" else 1
        zone = timezone(sign * timedelta(hours=int(zone_text[1:3]), minutes=int(zone_text[4:6])))
    try:
        second = datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"]),
            tzinfo=zone,
        ).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    fraction = match["fraction"]
    return second, Decimal(f"0.{fraction}") if fraction else Decimal(0)


def _number(value: Any) -> Decimal | None:
    """A JSON number as a Decimal (None for anything else, booleans included: True is not 1).
    Compared by value, so '1.50' and '1.5', '1.0' and '1' agree. FHIR calls a decimal's
    precision significant, but the number — the dose, the pressure — is unchanged when a server
    drops trailing zeros, many store decimals as doubles that cannot keep them, and JSON
    parsed to floats has already lost them on both sides; any other digit still differs."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float) and math.isfinite(value):
        # repr is the shortest text that gives this float back: the number as written.
        return Decimal(repr(value))
    return None
