"""The discography orders a hook call is about: ServiceRequests among `draftOrders` coded as
discography (CPT 62290/62291/72285/72295 or LOINC 37193-0/37192-2/70933-7/24927-6, from
plugin.candidacy.order). For order-select only the newly selected ones count (hook library:
focus on `selections`; a call without them, which the library allows, puts every draft in
focus); order-sign covers every draft. Whose order a draft is, is `draft_subject`'s to say:
a draft for another patient is not a malformed call but an order the service cannot assess."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugin.candidacy.order import is_discography_request
from plugin.cds_hooks.draft_shape import code_problems, discography_draft_problems
from plugin.cds_hooks.errors import CdsRequestInvalidError
from plugin.cds_hooks.hook_request import FHIR_ID, HookContext
from plugin.errors import Problem

__all__ = ["discography_drafts", "draft_reference"]


def draft_reference(draft: Mapping[str, Any]) -> str | None:
    """``ServiceRequest/abc``; None for a draft without a valid FHIR id (no reference, and
    so no update or app context, is ever built from one that is not)."""
    rid = draft.get("id")
    if not isinstance(rid, str) or FHIR_ID.fullmatch(rid) is None:
        return None
    return f"{draft.get('resourceType')}/{rid}"


def discography_drafts(context: HookContext) -> tuple[Mapping[str, Any], ...]:
    """The discography drafts in focus, in draftOrders order. Raises CdsRequestInvalidError
    for a draft that cannot be read (`draft_shape`)."""
    problems: list[Problem] = []
    found: list[Mapping[str, Any]] = []
    for index, draft in enumerate(context.draft_orders):
        path = f"context.draftOrders.entry[{index}].resource"
        if draft.get("resourceType") == "ServiceRequest":
            unreadable = code_problems(draft, path)
            if unreadable:
                problems += unreadable
                continue
        if not is_discography_request(draft):
            continue
        unreadable = discography_draft_problems(draft, path)
        if unreadable:
            problems += unreadable
            continue
        if context.selections is not None and draft_reference(draft) not in context.selections:
            continue
        found.append(draft)
    if problems:
        raise CdsRequestInvalidError(problems)
    return tuple(found)
