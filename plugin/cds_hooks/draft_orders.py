"""The discography orders a hook call is about: ServiceRequests among `draftOrders` coded as
discography (CPT 62290/62291/72285/72295 or LOINC 37193-0/37192-2/70933-7/24927-6, from
plugin.candidacy.order). For order-select only the newly selected ones count (hook library:
focus on `selections`); order-sign covers every draft. A draft about another patient than
context.patientId is a malformed call."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from plugin.candidacy.order import is_discography_request
from plugin.cds_hooks.errors import CdsRequestInvalidError
from plugin.cds_hooks.hook_request import HookContext
from plugin.errors import Problem

__all__ = ["discography_drafts", "draft_reference"]

_PATIENT_REFERENCE = re.compile(r"(?:^|/)Patient/([^/]+)$")


def draft_reference(draft: Mapping[str, Any]) -> str | None:
    """``ServiceRequest/abc``; None for a draft without an id."""
    rid = draft.get("id")
    return f"{draft.get('resourceType')}/{rid}" if isinstance(rid, str) and rid else None


def discography_drafts(context: HookContext) -> tuple[Mapping[str, Any], ...]:
    """The discography drafts in focus, in draftOrders order."""
    problems: list[Problem] = []
    found: list[Mapping[str, Any]] = []
    for index, draft in enumerate(context.draft_orders):
        if not is_discography_request(draft):
            continue
        subject = draft.get("subject")
        reference = subject.get("reference") if isinstance(subject, Mapping) else None
        match = _PATIENT_REFERENCE.search(reference) if isinstance(reference, str) else None
        if match is not None and match.group(1) != context.patient_id:
            problems.append(
                Problem(
                    f"context.draftOrders.entry[{index}].resource.subject",
                    "same-patient",
                    "the draft order is for another patient than context.patientId",
                )
            )
            continue
        if context.selections is not None and draft_reference(draft) not in context.selections:
            continue
        found.append(draft)
    if problems:
        raise CdsRequestInvalidError(problems)
    return tuple(found)
