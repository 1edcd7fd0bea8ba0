import itertools

import pytest

from plugin.study.levels import (
    DISC_LEVELS,
    Region,
    adjacent_levels,
    is_disc_level,
    normalize_level,
    region_of,
)


def test_column_runs_from_c2_c3_to_l5_s1_without_gaps() -> None:
    assert DISC_LEVELS[0] == "C2-C3"
    assert DISC_LEVELS[-1] == "L5-S1"
    assert len(DISC_LEVELS) == 23  # 6 cervical + 12 thoracic + 5 lumbar discs
    for upper, lower in itertools.pairwise(DISC_LEVELS):
        assert upper.split("-")[1] == lower.split("-")[0]


@pytest.mark.parametrize(
    ("level", "region"),
    [
        ("C2-C3", Region.CERVICAL),
        ("C7-T1", Region.CERVICAL),
        ("T1-T2", Region.THORACIC),
        ("T12-L1", Region.THORACIC),
        ("L1-L2", Region.LUMBAR),
        ("L5-S1", Region.LUMBAR),
    ],
)
def test_region_follows_the_upper_vertebra(level: str, region: Region) -> None:
    assert region_of(level) is region


@pytest.mark.parametrize(
    ("level", "neighbours"),
    [
        ("L4-L5", ("L3-L4", "L5-S1")),
        ("L5-S1", ("L4-L5",)),
        ("C2-C3", ("C3-C4",)),
        ("T12-L1", ("T11-T12", "L1-L2")),
        ("C7-T1", ("C6-C7", "T1-T2")),
    ],
)
def test_adjacent_levels(level: str, neighbours: tuple[str, ...]) -> None:
    assert adjacent_levels(level) == neighbours


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("L4-L5", "L4-L5"),
        ("l4-l5", "L4-L5"),
        ("L4/L5", "L4-L5"),
        ("L4 L5", "L4-L5"),
        ("L4-5", "L4-L5"),
        (" c5/6 ", "C5-C6"),
        ("L5–S1", "L5-S1"),
    ],
)
def test_common_spellings_normalize(written: str, canonical: str) -> None:
    assert normalize_level(written) == canonical


@pytest.mark.parametrize("text", ["L6-S1", "Q9", "L4-L6", "", "C1-C2", "S1-S2"])
def test_non_injectable_levels_are_not_disc_levels(text: str) -> None:
    assert not is_disc_level(normalize_level(text))
