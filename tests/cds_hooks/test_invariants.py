"""The checker must catch each broken rule, or passing it would prove nothing."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from plugin.cds_hooks.invariants import response_problems

GOOD: dict[str, Any] = {
    "cards": [
        {
            "uuid": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
            "summary": "Example",
            "indicator": "warning",
            "source": {"label": "Example", "topic": {"system": "https://x", "code": "t"}},
            "suggestions": [
                {
                    "label": "Do it",
                    "uuid": "e56e1945-20b3-4393-8503-a1a20fd73152",
                    "isRecommended": True,
                    "actions": [
                        {
                            "type": "create",
                            "description": "Create",
                            "resource": {"resourceType": "ServiceRequest"},
                        },
                        {
                            "type": "delete",
                            "description": "Remove",
                            "resourceId": "ServiceRequest/1",
                        },
                    ],
                }
            ],
            "selectionBehavior": "at-most-one",
            "overrideReasons": [{"system": "https://x", "code": "r", "display": "Reason"}],
            "links": [
                {"label": "App", "url": "https://app/launch", "type": "smart", "appContext": "{}x"},
                {"label": "Doc", "url": "https://doc", "type": "absolute"},
            ],
        }
    ],
    "systemActions": [
        {
            "type": "update",
            "description": "u",
            "resource": {"resourceType": "ServiceRequest", "id": "1"},
        }
    ],
}


def broken(change: Any) -> set[str]:
    response = copy.deepcopy(GOOD)
    change(response)
    return {p.rule for p in response_problems(response)}


def test_good_response_passes() -> None:
    assert response_problems(GOOD) == []
    assert response_problems({"cards": []}) == []


def card(r: dict[str, Any]) -> Any:
    return r["cards"][0]


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (
            lambda r: card(r)["suggestions"].append(
                {**card(r)["suggestions"][0], "uuid": "e56e1945-20b3-4393-8503-a1a20fd73153"}
            ),
            "cds-resp-1",
        ),
        (
            lambda r: card(r)["suggestions"][0]["actions"][1].update(
                resource={"resourceType": "X"}
            ),
            "cds-resp-2",
        ),
        (lambda r: card(r)["links"][1].update(appContext="x"), "cds-resp-3"),
        (lambda r: card(r)["overrideReasons"][0].pop("display"), "cds-resp-4"),
        (lambda r: card(r)["suggestions"][0]["actions"][0].pop("description"), "cds-resp-5"),
        (lambda r: card(r).pop("selectionBehavior"), "cds-resp-6"),
        (lambda r: card(r)["suggestions"][0].update(actionSelectionBehavior="some"), "cds-resp-7"),
        (lambda r: card(r).update(summary="x" * 140), "summary-length"),
        (lambda r: card(r).update(indicator="hard-stop"), "enum"),
        (lambda r: card(r).update(uuid="card-1"), "uuid"),
        (lambda r: card(r)["source"].pop("label"), "required"),
        (lambda r: card(r)["source"].update(url="/relative"), "absolute-url"),
        (lambda r: card(r).update(detail=""), "json-no-empty"),
        (lambda r: card(r).update(links=[]), "json-no-empty"),
        (lambda r: card(r).update(detail=None), "json-no-null"),
        (lambda r: r["systemActions"][0]["resource"].pop("id"), "update-id"),
        (lambda r: r.pop("cards"), "required"),
        (lambda r: r["cards"].append(copy.deepcopy(card(r))), "unique-uuid"),
    ],
)
def test_each_broken_rule_is_caught(change: Any, rule: str) -> None:
    assert rule in broken(change)
