"""Intervertebral disc levels, their spinal region and their neighbours.

A disc is named by the two vertebrae around it (``L4-L5``). The discs that can be injected
run from C2-C3 to L5-S1 in one continuous column, so "adjacent" is simply the disc just
above and just below in that column.
"""

from __future__ import annotations

import itertools
from enum import StrEnum

__all__ = [
    "DISC_LEVELS",
    "Region",
    "adjacent_levels",
    "is_disc_level",
    "level_index",
    "normalize_level",
    "region_of",
]


class Region(StrEnum):
    CERVICAL = "cervical"
    THORACIC = "thoracic"
    LUMBAR = "lumbar"


def _build_levels() -> tuple[str, ...]:
    vertebrae = (
        [f"C{i}" for i in range(2, 8)]
        + [f"T{i}" for i in range(1, 13)]
        + [f"L{i}" for i in range(1, 6)]
        + ["S1"]
    )
    return tuple(f"{upper}-{lower}" for upper, lower in itertools.pairwise(vertebrae))


#: Every injectable disc, cranial to caudal: C2-C3 … C7-T1, T1-T2 … T12-L1, L1-L2 … L5-S1.
DISC_LEVELS: tuple[str, ...] = _build_levels()
_INDEX = {name: i for i, name in enumerate(DISC_LEVELS)}


def normalize_level(text: str) -> str:
    """Canonical spelling of a level: ``"l4/l5"``, ``"L4 L5"`` and ``"L4-5"`` → ``"L4-L5"``.

    Returns the input stripped and upper-cased when it cannot be read as a level, so the
    caller's validation reports it as unknown.
    """
    cleaned = text.strip().upper().replace("/", "-").replace(" ", "-").replace("–", "-")
    while "--" in cleaned:
        cleaned = cleaned.replace("--", "-")
    if cleaned in _INDEX:
        return cleaned
    upper, sep, lower = cleaned.partition("-")
    if sep and lower.isdigit() and upper[:1].isalpha():
        expanded = f"{upper}-{upper[0]}{lower}"
        if expanded in _INDEX:
            return expanded
    return cleaned


def is_disc_level(level: str) -> bool:
    return level in _INDEX


def level_index(level: str) -> int:
    """Position in the column, 0 = C2-C3. Raises KeyError for an unknown level."""
    return _INDEX[level]


def region_of(level: str) -> Region:
    """The region of a disc, named by its upper vertebra: C7-T1 is cervical, T12-L1 thoracic."""
    index = level_index(level)
    letter = DISC_LEVELS[index][0]
    return {"C": Region.CERVICAL, "T": Region.THORACIC, "L": Region.LUMBAR}[letter]


def adjacent_levels(level: str) -> tuple[str, ...]:
    """The disc immediately above and immediately below, where they exist (L5-S1 has one)."""
    index = level_index(level)
    return tuple(DISC_LEVELS[i] for i in (index - 1, index + 1) if 0 <= i < len(DISC_LEVELS))
