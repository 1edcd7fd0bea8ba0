"""A resource of the study that someone changed in the chart after this report last wrote it.

An update replaces a whole resource, so the outbox never writes over such a change on its own
(`ChangedInChartError`). It keeps what it found — the resource's server id, the version the EHR
reported and the copy it read — so the user can review the change in the chart and then agree
to write this report over exactly that copy: the next attempt updates with `If-Match` on that
version (or, on an EHR without versions, only while the chart still holds that copy), so a
later change, which the user has not seen, still stops it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ChartChange", "chart_changes_from_json", "chart_changes_json"]


@dataclass(frozen=True, slots=True)
class ChartChange:
    token: str  # the study resource's identity (`system|value`), as in the write plan
    resource_type: str
    server_id: str
    version: str | None  # as the EHR reported it when the change was found (None: no versions)
    copy: Mapping[str, Any] = field(default_factory=dict)  # the chart's copy then

    @property
    def reference(self) -> str:
        return f"{self.resource_type}/{self.server_id}"


def chart_changes_json(changes: Iterable[ChartChange]) -> str | None:
    """The changes for the outbox item's column (None: there are none)."""
    rows = [
        {
            "token": change.token,
            "resource_type": change.resource_type,
            "server_id": change.server_id,
            "version": change.version,
            "copy": dict(change.copy),
        }
        for change in changes
    ]
    return json.dumps(rows, separators=(",", ":")) if rows else None


def chart_changes_from_json(text: str | None) -> tuple[ChartChange, ...]:
    if not text:
        return ()
    return tuple(
        ChartChange(
            token=row["token"],
            resource_type=row["resource_type"],
            server_id=row["server_id"],
            version=row["version"],
            copy=row["copy"],
        )
        for row in json.loads(text)
    )
