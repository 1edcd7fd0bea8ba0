"""Card suggestions: draft orders for the tests the assessment says are missing or out of date
(an INR, an eGFR, a pregnancy test), one suggestion per test, each a `create` action of a
ServiceRequest. A test already among the draft orders is not suggested again (hook library:
consider the other drafts). Codes come from the policy, which takes them from
mappings/standard-codes.json or the product's own CodeSystem; they are sent without display,
the name going in `code.text`. The label says the order as a sentence does ("Order INR",
"Order a pregnancy test")."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from plugin.candidacy.assessment import Assessment, SafetyItem, SuggestedOrder
from plugin.candidacy.value_sets import codings
from plugin.cds_hooks.hook_request import HookContext

__all__ = ["SELECTION_BEHAVIOR", "order_suggestions"]

#: The tests are independent of each other: the clinician may take any of them.
SELECTION_BEHAVIOR = "any"


def _drafted_codes(drafts: Iterable[Mapping[str, Any]]) -> set[tuple[str, str]]:
    return {
        (str(coding.get("system")), str(coding.get("code")))
        for draft in drafts
        if draft.get("resourceType") == "ServiceRequest"
        for coding in codings(draft.get("code"))
    }


def _service_request(
    order: SuggestedOrder, item: SafetyItem, context: HookContext
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "order",
        "code": {"coding": [{"system": order.system, "code": order.code}], "text": order.text},
        "subject": {"reference": f"Patient/{context.patient_id}"},
    }
    if context.encounter_id is not None:
        resource["encounter"] = {"reference": f"Encounter/{context.encounter_id}"}
    resource["requester"] = {"reference": context.user_id}
    resource["note"] = [{"text": f"Before provocative discography: {item.title}."}]
    return resource


def order_suggestions(
    assessment: Assessment,
    context: HookContext,
    *,
    new_uuid: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> list[dict[str, Any]]:
    drafted = _drafted_codes(context.draft_orders)
    suggestions: list[dict[str, Any]] = []
    for item in assessment.safety:
        order = item.suggested_order
        if order is None or (order.system, order.code) in drafted:
            continue
        drafted.add((order.system, order.code))  # one suggestion per test
        suggestions.append(
            {
                "label": f"Order {order.in_words}",
                "uuid": new_uuid(),
                "isRecommended": True,
                "actions": [
                    {
                        "type": "create",
                        "description": f"Order {order.in_words} before discography ({item.title}).",
                        "resource": _service_request(order, item, context),
                    }
                ],
            }
        )
    return suggestions
