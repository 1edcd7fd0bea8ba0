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

from collections.abc import Mapping
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
    return _contains(_clinical(server_copy), _clinical(sent))


def unchanged_since_written(server_copy: Mapping[str, Any], sent: Mapping[str, Any]) -> bool:
    """Whether the server's copy is still exactly what we last sent, the elements a server
    owns (id, meta, narrative) aside: on an EHR that reports no versions (no `If-Match`), this
    is how an update tells that someone changed the resource in the chart meanwhile. `sent`
    must be the body as it went out — references resolved as they were sent, placeholders
    left out then left out here too — since every element counts: one added in the chart (an
    extension, a note), removed or changed (a reference re-pointed) is a change that the
    update, a whole-resource PUT, would overwrite."""
    return _clinical(server_copy) == _clinical(sent)


def _clinical(resource: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k not in _SERVER_OWNED}


def _contains(have: Any, want: Any) -> bool:
    if isinstance(want, Mapping):
        return isinstance(have, Mapping) and all(
            key in have and _contains(have[key], value) for key, value in want.items()
        )
    if isinstance(want, list):
        return (
            isinstance(have, list)
            and len(have) == len(want)
            and all(_contains(h, w) for h, w in zip(have, want, strict=True))
        )
    return bool(have == want)
