"""Disc levels named in chart text and body sites: "L4-5", "L4/L5", "L5-S1", "C5-C6", and
fusion ranges such as "L3-L5" (which span the discs L3-L4 and L4-L5).

Body sites coded with the SNOMED CT intervertebral-disc codes of DICOM CID 7604 (listed in
mappings/standard-codes.json) name their disc directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from plugin.candidacy.value_sets import codings, concept_texts
from plugin.study.levels import DISC_LEVELS, level_index
from plugin.terminology import standard_codes, system_url

__all__ = ["levels_in_concepts", "levels_in_text"]

# Two vertebrae: letter+number, then an optional letter and a number, joined by -, –, /, "to"
# or a space ("L4-5", "L4 - L5", "L5/S1", "C5 to C7").
_MENTION = re.compile(
    r"(?<![A-Za-z0-9])([CTL])\s?(\d{1,2})\s*(?:-|–|/|to|\s)\s*([CTLS])?\s?(\d{1,2})(?![0-9])",
    re.IGNORECASE,
)
# Vertebrae in cranio-caudal order, as the upper vertebra of each disc plus S1.
_VERTEBRAE: tuple[str, ...] = (*(level.split("-")[0] for level in DISC_LEVELS), "S1")
_VERTEBRA_INDEX = {name: i for i, name in enumerate(_VERTEBRAE)}


def levels_in_text(text: str) -> tuple[str, ...]:
    """Every disc level the text names, cranial to caudal, each once."""
    found: set[str] = set()
    for match in _MENTION.finditer(text):
        letter, upper_number, lower_letter, lower_number = match.groups()
        upper = f"{letter.upper()}{int(upper_number)}"
        lower = f"{(lower_letter or letter).upper()}{int(lower_number)}"
        start, end = _VERTEBRA_INDEX.get(upper), _VERTEBRA_INDEX.get(lower)
        if start is None or end is None or end <= start or end - start > 6:
            continue  # not two vertebrae in order; a run of more than six discs is no level
        found.update(DISC_LEVELS[i] for i in range(start, end))
    return tuple(sorted(found, key=level_index)) if found else ()


@cache
def _disc_codes() -> dict[str, str]:
    return {
        code: str(entry["level"])
        for code, entry in standard_codes("snomed").items()
        if isinstance(entry.get("level"), str)
    }


def levels_in_concepts(concepts: Iterable[Any]) -> tuple[str, ...]:
    """Disc levels named by SNOMED CT disc codes or in the text of CodeableConcepts."""
    snomed = system_url("snomed")
    found: set[str] = set()
    for concept in concepts:
        for coding in codings(concept):
            code = coding.get("code")
            if type(code) is str and coding.get("system") == snomed and code in _disc_codes():
                found.add(_disc_codes()[code])
        for text in concept_texts(concept):
            found.update(levels_in_text(text))
    return tuple(sorted(found, key=level_index)) if found else ()
