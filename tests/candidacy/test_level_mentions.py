"""Disc levels named in text and SNOMED CT body sites."""

from __future__ import annotations

import pytest

from plugin.candidacy.level_mentions import levels_in_concepts, levels_in_text


@pytest.mark.parametrize(
    ("text", "levels"),
    [
        ("L4-5 fusion", ("L4-L5",)),
        ("L4/L5 and L5-S1", ("L4-L5", "L5-S1")),
        ("TLIF L3-L5", ("L3-L4", "L4-L5")),  # a fused range spans two discs
        ("ACDF C5 to C7", ("C5-C6", "C6-C7")),
        ("T12-L1", ("T12-L1",)),
        ("ALIF L4–L5", ("L4-L5",)),
        ("pain score 4-5", ()),
        ("L5-L4", ()),  # not in cranio-caudal order
        ("vitamin D3 5000", ()),
    ],
)
def test_levels_in_text(text: str, levels: tuple[str, ...]) -> None:
    assert levels_in_text(text) == levels


def test_snomed_disc_codes_name_their_disc() -> None:
    concept = {"coding": [{"system": "http://snomed.info/sct", "code": "84020006"}]}
    assert levels_in_concepts([concept, {"text": "L5-S1"}]) == ("L4-L5", "L5-S1")


def test_codes_of_the_wrong_type_name_no_level() -> None:
    snomed = "http://snomed.info/sct"
    sites = [
        {"coding": [{"system": snomed, "code": {"x": 1}}], "text": "L4-5"},
        {"coding": [{"system": snomed, "code": ["x"]}]},
        {"coding": 5},
    ]
    assert levels_in_concepts(sites) == ("L4-L5",)
