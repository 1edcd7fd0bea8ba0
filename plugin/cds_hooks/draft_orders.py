"""The discography orders a hook call is about: ServiceRequests among `draftOrders` coded as
discography (CPT 62290/62291/72285/72295 or LOINC 37193-0/37192-2/70933-7/24927-6, from
plugin.candidacy.order). For order-select only the newly selected ones count (hook library:
focus on `selections`; a call without them, which the library allows, puts every draft in
focus); order-sign covers every draft. A draft about another patient than
context.patientId is a malformed call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugin.candidacy.order import is_discography_request
from plugin.cds_hooks.draft_shape import code_problems, discography_draft_problems
from plugin.cds_hooks.errors import CdsRequestInvalidError
from plugin.cds_hooks.hook_request import HookContext
from plugin.cds_hooks.same_patient import names_another_patient
from plugin.errors import Problem

__all__ = ["discography_drafts", "draft_reference"]


def draft_reference(draft: Mapping[str, Any]) -> str | None:
    """``ServiceRequest/abc``; None for a draft without an id."""
    rid = draft.get("id")
    return f"{draft.get('resourceType')}/{rid}" if isinstance(rid, str) and rid else None


def discography_drafts(context: HookContext) -> tuple[Mapping[str, Any], ...]:
    """The discography drafts in focus, in draftOrders order. Raises CdsRequestInvalidError
    for a draft that cannot be read (`draft_shape`) or is about another patient."""
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
        subject = draft.get("subject")
        reference = subject.get("reference") if isinstance(subject, Mapping) else None
        if isinstance(reference, str) and names_another_patient(reference, context.patient_id):
            problems.append(
                Problem(
                    f"{path}.subject",
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
