"""The blinded injection order: the discs in a random order, read out to the team so the
patient is not told which disc is being injected (shared/clinical.md §1).

Drawn with the operating system's randomness (`secrets.SystemRandom`), not a seeded generator:
the order must not be guessable from anything the app shows or stores. It stays as drawn until
the clinician draws again, and is fixed once the first injection has results: from then on the
order is a record of what happened.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["draw_order", "extend_order", "has_results", "order_locked"]

# Everything recorded about an injection except the defaulted "completed".
_RESULT_FIELDS = (
    "abort_reason",
    "opening_pressure_psi",
    "onset_pressure_psi",
    "peak_pressure_psi",
    "onset_volume_ml",
    "total_volume_ml",
    "pain_intensity",
    "pain_response",
    "pain_location",
    "nucleogram",
    "dallas_grade",
    "leak",
    "comment",
)


def draw_order(levels: Sequence[str], rng: random.Random | None = None) -> dict[str, int]:
    """Injection numbers 1..n for `levels`, a uniformly random permutation. `rng` is for tests;
    by default the operating system's generator is used."""
    chooser = rng if rng is not None else secrets.SystemRandom()
    shuffled = list(levels)
    chooser.shuffle(shuffled)
    return {level: position for position, level in enumerate(shuffled, start=1)}


def extend_order(
    current: Mapping[str, int],
    added: Sequence[str],
    rng: random.Random | None = None,
    *,
    after: int = 0,
) -> dict[str, int]:
    """The order after adding discs once injections have begun: the discs in `current` keep
    their numbers, the new ones follow (after `after` too, when higher) in a random order of
    their own."""
    order = dict(current)
    start = max([*order.values(), after])
    for level, position in draw_order([a for a in added if a not in order], rng).items():
        order[level] = start + position
    return order


def has_results(level: Mapping[str, Any]) -> bool:
    """Whether anything was recorded for this disc (beyond the default "completed")."""
    if level.get("technical_result") not in (None, "completed"):
        return True
    return any(level.get(name) not in (None, "") for name in _RESULT_FIELDS)


def order_locked(levels: Sequence[Mapping[str, Any]]) -> bool:
    """The order is fixed once any disc has results: it then records what was done."""
    return any(has_results(level) for level in levels)
