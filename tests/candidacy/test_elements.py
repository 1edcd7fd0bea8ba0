"""A repeating element whose JSON type is wrong reads as absent."""

from __future__ import annotations

import pytest

from plugin.candidacy.elements import repeating


def test_a_list_is_its_items() -> None:
    items = [{"text": "a"}, 5]
    assert repeating(items) is items


@pytest.mark.parametrize("value", [None, 5, 1.5, True, "L4-L5", {"text": "a"}])
def test_anything_else_is_no_items(value: object) -> None:
    assert list(repeating(value)) == []
