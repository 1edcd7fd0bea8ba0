"""The systemAction that records the assessment on the draft order: an `update` of the draft
ServiceRequest, whole (CDS Hooks 2.0 §Action: an update carries the entire resource), equal to
the draft as sent plus the candidacy extension — nothing else changes, so the order means what
the clinician wrote."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugin.candidacy.assessment import Assessment
from plugin.cds_hooks.draft_orders import draft_reference
from plugin.cds_hooks.extension import candidacy_extension, with_candidacy_extension

__all__ = ["candidacy_update"]


def candidacy_update(assessment: Assessment, draft: Mapping[str, Any]) -> dict[str, Any] | None:
    """The update action; None for a draft without a valid FHIR id (an update must name its
    target) or without a subject. ServiceRequest.subject is 1..1, so such an update would
    write an invalid resource; supplying the subject ourselves would change the order beyond
    the extension, which this action never does."""
    if draft_reference(draft) is None or not isinstance(draft.get("subject"), Mapping):
        return None
    return {
        "type": "update",
        "description": "Record the discography candidacy assessment on the draft order.",
        "resource": with_candidacy_extension(draft, candidacy_extension(assessment)),
    }
