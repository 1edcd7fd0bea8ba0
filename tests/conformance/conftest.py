"""Valid instances to start from: the committed examples, loaded once, copied per test."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest

from plugin.resources import conformance_dir
from tests.conformance.studies import five_level_study, mapped_bundle

Resource = dict[str, Any]


@cache
def _examples() -> dict[str, Resource]:
    folder = conformance_dir() / "examples"
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.json"))
    }


@pytest.fixture
def example() -> Callable[[str], Resource]:
    """A fresh copy of an example, by a unique part of its file name (``"L4-L5"``)."""

    def get(part: str) -> Resource:
        names = [name for name in _examples() if part in name]
        assert len(names) == 1, f"{part!r} matches {names}"
        return copy.deepcopy(_examples()[names[0]])

    return get


def component(observation: Resource, code: str) -> Resource:
    """The component of a level Observation with this code (``"pain-response"``)."""
    return next(c for c in observation["component"] if c["code"]["coding"][0]["code"] == code)


@pytest.fixture(scope="session")
def five_level_bundle() -> Resource:
    """What the product writes for a five-level study, with its real HTML and PDF report."""
    return mapped_bundle(five_level_study(), real_report=True)
