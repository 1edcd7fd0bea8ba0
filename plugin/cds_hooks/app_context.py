"""The `appContext` of the card's SMART link: which draft order (and which hook call) the
app is opened for. CDS Hooks 2.0 §Link: a string the EHR hands to the SMART app in the token
response; ours is compact JSON. Clients may drop it, so the app must work without it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from plugin.errors import InputProblemError, Problem

__all__ = ["AppContext", "app_context_text", "read_app_context"]


@dataclass(frozen=True, slots=True)
class AppContext:
    service: str  # the CDS service id that made the card
    hook: str
    hook_instance: str
    draft_order: str | None  # "ServiceRequest/abc" when the draft has an id


def app_context_text(context: AppContext) -> str:
    value: dict[str, Any] = {
        "service": context.service,
        "hook": context.hook,
        "hookInstance": context.hook_instance,
    }
    if context.draft_order is not None:
        value["draftOrder"] = context.draft_order
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def read_app_context(text: str) -> AppContext:
    """The context the SMART app received; InputProblemError when it is not ours."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise InputProblemError(
            [Problem("appContext", "json", "is not a JSON object")], "appContext"
        )
    problems = [
        Problem(f"appContext.{name}", "required", "must be a non-empty string")
        for name in ("service", "hook", "hookInstance")
        if not isinstance(value.get(name), str) or not value[name]
    ]
    draft = value.get("draftOrder")
    if draft is not None and not isinstance(draft, str):
        problems.append(Problem("appContext.draftOrder", "type", "must be a string"))
    if problems:
        raise InputProblemError(problems, "appContext")
    return AppContext(value["service"], value["hook"], value["hookInstance"], draft)
