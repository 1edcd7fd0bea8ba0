"""The systemAction that records the assessment on the draft order: an `update` of the draft
ServiceRequest, whole (CDS Hooks 2.0 §Action: an update carries the entire resource), equal to
the draft as sent plus the candidacy extension — nothing else changes, so the order means what
the clinician wrote."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugin.candidacy.assessment import Assessment
from plugin.cds_hooks.extension import candidacy_extension, with_candidacy_extension

__all__ = ["candidacy_update"]


def candidacy_update(assessment: Assessment, draft: Mapping[str, Any]) -> dict[str, Any] | None:
    """The update action; None for a draft without an id (an update must name its target)."""
    if not isinstance(draft.get("id"), str) or not draft["id"]:
        return None
    return {
        "type": "update",
        "description": "Record the discography candidacy assessment on the draft order.",
        "resource": with_candidacy_extension(draft, candidacy_extension(assessment)),
    }
