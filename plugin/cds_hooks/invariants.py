"""The rules a CDS Hooks 2.0 service response must keep, as one executable check (pure).

The formal invariants of the HL7 cds-hooks logical models — cds-resp-1 (at-most-one ⇒ at most
one suggestion recommended), cds-resp-2 (delete ⇒ resourceId, no resource), cds-resp-3
(appContext only on smart links), cds-resp-4 (override reasons carry a display), cds-resp-5
(every action has a description), cds-resp-6 (suggestions ⇒ selectionBehavior), cds-resp-7
(actionSelectionBehavior enum) — plus the attribute rules of §Card Attributes, §Source,
§Suggestion, §Action, §Link and §Use of JSON (no null, empty string, array or object, except
the empty `cards` that means "no guidance"). The tests run it over every response we produce.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from plugin.errors import Problem

__all__ = ["response_problems"]

_INDICATORS = ("info", "warning", "critical")
_SELECTION = ("at-most-one", "any")
_ACTION_SELECTION = ("all", "any", "at-most-one")
_ACTION_TYPES = ("create", "update", "delete")
_LINK_TYPES = ("absolute", "smart")


class _Check:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, path: str, rule: str, message: str) -> None:
        self.problems.append(Problem(path, rule, message))

    def string(self, data: Mapping[str, Any], name: str, path: str, *, required: bool) -> Any:
        value = data.get(name)
        if value is None:
            if required:
                self.fail(f"{path}.{name}", "required", "is required")
            return None
        if not isinstance(value, str):
            self.fail(f"{path}.{name}", "type", "must be a string")
            return None
        return value


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _absolute_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _no_empty_values(value: Any, path: str, check: _Check) -> None:
    """§Use of JSON: nothing null or empty, unless the specification says so."""
    if value is None:
        check.fail(path, "json-no-null", "must not be null")
    elif isinstance(value, str) and not value:
        check.fail(path, "json-no-empty", "must not be an empty string")
    elif isinstance(value, (list, dict)) and not value:
        check.fail(path, "json-no-empty", "must not be empty")
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_empty_values(item, f"{path}.{key}", check)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _no_empty_values(item, f"{path}[{index}]", check)


def _coding(coding: Any, path: str, check: _Check, *, display_required: bool) -> None:
    if not isinstance(coding, Mapping):
        check.fail(path, "type", "must be a Coding object")
        return
    check.string(coding, "system", path, required=True)
    check.string(coding, "code", path, required=True)
    display = check.string(coding, "display", path, required=False)
    if display_required and not display:
        check.fail(f"{path}.display", "cds-resp-4", "an override reason must have a display")


def _action(action: Any, path: str, check: _Check) -> None:
    if not isinstance(action, Mapping):
        check.fail(path, "type", "must be an Action object")
        return
    kind = check.string(action, "type", path, required=True)
    if kind is not None and kind not in _ACTION_TYPES:
        check.fail(f"{path}.type", "enum", "must be create, update or delete")
    if not action.get("description"):
        check.fail(f"{path}.description", "cds-resp-5", "every action needs a description")
    check.string(action, "description", path, required=False)
    resource = action.get("resource")
    if kind in ("create", "update"):
        if not isinstance(resource, Mapping) or not isinstance(resource.get("resourceType"), str):
            check.fail(f"{path}.resource", "action-resource", f"a {kind} carries a FHIR resource")
        elif kind == "update" and not resource.get("id"):
            check.fail(f"{path}.resource.id", "update-id", "an update names its resource's id")
    if kind == "delete" and (resource is not None or not action.get("resourceId")):
        check.fail(path, "cds-resp-2", "a delete gives resourceId and no resource")
    check.string(action, "resourceId", path, required=False)


def _suggestion(suggestion: Any, path: str, check: _Check) -> None:
    if not isinstance(suggestion, Mapping):
        check.fail(path, "type", "must be a Suggestion object")
        return
    check.string(suggestion, "label", path, required=True)
    ident = check.string(suggestion, "uuid", path, required=False)
    if ident is not None and not _is_uuid(ident):
        check.fail(f"{path}.uuid", "uuid", "must be a UUID")
    recommended = suggestion.get("isRecommended")
    if recommended is not None and not isinstance(recommended, bool):
        check.fail(f"{path}.isRecommended", "type", "must be a boolean")
    behaviour = suggestion.get("actionSelectionBehavior")
    if behaviour is not None and behaviour not in _ACTION_SELECTION:
        check.fail(
            f"{path}.actionSelectionBehavior", "cds-resp-7", "must be all, any or at-most-one"
        )
    actions = suggestion.get("actions", [])
    if not isinstance(actions, list):
        check.fail(f"{path}.actions", "type", "must be an array")
        return
    for index, action in enumerate(actions):
        _action(action, f"{path}.actions[{index}]", check)


def _link(link: Any, path: str, check: _Check) -> None:
    if not isinstance(link, Mapping):
        check.fail(path, "type", "must be a Link object")
        return
    check.string(link, "label", path, required=True)
    url = check.string(link, "url", path, required=True)
    if url is not None and not _absolute_url(url):
        check.fail(f"{path}.url", "absolute-url", "must be an absolute URL")
    kind = check.string(link, "type", path, required=True)
    if kind is not None and kind not in _LINK_TYPES:
        check.fail(f"{path}.type", "enum", "must be absolute or smart")
    if "appContext" in link:
        check.string(link, "appContext", path, required=False)
        if kind != "smart":
            check.fail(f"{path}.appContext", "cds-resp-3", "appContext is only for smart links")


def _card(card: Any, path: str, check: _Check) -> None:
    if not isinstance(card, Mapping):
        check.fail(path, "type", "must be a Card object")
        return
    ident = check.string(card, "uuid", path, required=False)
    if ident is not None and not _is_uuid(ident):
        check.fail(f"{path}.uuid", "uuid", "must be a UUID")
    summary = check.string(card, "summary", path, required=True)
    if summary is not None and len(summary) >= 140:
        check.fail(f"{path}.summary", "summary-length", "must be under 140 characters")
    check.string(card, "detail", path, required=False)
    indicator = check.string(card, "indicator", path, required=True)
    if indicator is not None and indicator not in _INDICATORS:
        check.fail(f"{path}.indicator", "enum", "must be info, warning or critical")
    source = card.get("source")
    if not isinstance(source, Mapping):
        check.fail(f"{path}.source", "required", "is required (an object)")
    else:
        check.string(source, "label", f"{path}.source", required=True)
        for name in ("url", "icon"):
            value = check.string(source, name, f"{path}.source", required=False)
            if value is not None and not _absolute_url(value):
                check.fail(f"{path}.source.{name}", "absolute-url", "must be an absolute URL")
        if "topic" in source:
            _coding(source["topic"], f"{path}.source.topic", check, display_required=False)
    suggestions = card.get("suggestions")
    behaviour = card.get("selectionBehavior")
    if suggestions is not None:
        if not isinstance(suggestions, list):
            check.fail(f"{path}.suggestions", "type", "must be an array")
            suggestions = []
        if behaviour is None:
            check.fail(f"{path}.selectionBehavior", "cds-resp-6", "is required with suggestions")
        for index, suggestion in enumerate(suggestions):
            _suggestion(suggestion, f"{path}.suggestions[{index}]", check)
        recommended = [s for s in suggestions if isinstance(s, Mapping) and s.get("isRecommended")]
        if behaviour == "at-most-one" and len(recommended) > 1:
            check.fail(path, "cds-resp-1", "at-most-one allows one recommended suggestion at most")
    if behaviour is not None and behaviour not in _SELECTION:
        check.fail(f"{path}.selectionBehavior", "enum", "must be at-most-one or any")
    reasons = card.get("overrideReasons", [])
    if not isinstance(reasons, list):
        check.fail(f"{path}.overrideReasons", "type", "must be an array")
    else:
        for index, reason in enumerate(reasons):
            _coding(reason, f"{path}.overrideReasons[{index}]", check, display_required=True)
    links = card.get("links", [])
    if not isinstance(links, list):
        check.fail(f"{path}.links", "type", "must be an array")
    else:
        for index, link in enumerate(links):
            _link(link, f"{path}.links[{index}]", check)


def response_problems(response: Any) -> list[Problem]:
    """Every rule the response breaks; [] for a conformant one."""
    check = _Check()
    if not isinstance(response, Mapping):
        return [Problem("", "type", "a response is a JSON object")]
    cards = response.get("cards")
    if not isinstance(cards, list):
        check.fail("cards", "required", "is required (an array, empty for no guidance)")
        cards = []
    for index, card in enumerate(cards):
        _card(card, f"cards[{index}]", check)
        _no_empty_values(card, f"cards[{index}]", check)
    if "systemActions" in response:
        actions = response["systemActions"]
        _no_empty_values(actions, "systemActions", check)
        for index, action in enumerate(actions if isinstance(actions, list) else []):
            _action(action, f"systemActions[{index}]", check)
    uuids = [c.get("uuid") for c in cards if isinstance(c, Mapping) and c.get("uuid")]
    if len(uuids) != len(set(uuids)):
        check.fail("cards", "unique-uuid", "card uuids must be unique")
    return check.problems
