from __future__ import annotations

import pytest

from plugin.interpretation.results import LevelCategory
from plugin.report.marks import MARK_STYLES, LevelMark, level_mark
from plugin.study.model import LevelRole
from tests.report.builders import result


@pytest.mark.parametrize(
    ("role", "category", "mark"),
    [
        (LevelRole.SUSPECTED, LevelCategory.DEFINITE, LevelMark.POSITIVE),
        (LevelRole.SUSPECTED, LevelCategory.POSITIVE, LevelMark.POSITIVE),
        (LevelRole.SUSPECTED, LevelCategory.NEGATIVE, LevelMark.NEGATIVE),
        (LevelRole.CONTROL, LevelCategory.NEGATIVE, LevelMark.CONTROL),
        # a control disc that hurt keeps the mark of its own result
        (LevelRole.CONTROL, LevelCategory.INDETERMINATE, LevelMark.INDETERMINATE),
        (LevelRole.CONTROL, LevelCategory.PROBABLE, LevelMark.POSITIVE),
        (LevelRole.CONTROL, LevelCategory.NOT_ASSESSABLE, LevelMark.NOT_ASSESSABLE),
        (LevelRole.SUSPECTED, LevelCategory.NOT_ASSESSABLE, LevelMark.NOT_ASSESSABLE),
    ],
)
def test_level_mark(role: LevelRole, category: LevelCategory, mark: LevelMark) -> None:
    assert level_mark(role, result("L4-L5", category, role=role.value)) is mark


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_every_mark_has_a_distinct_symbol_shape_pair_and_readable_contrast() -> None:
    pairs = {(style.symbol, style.shape) for style in MARK_STYLES.values()}
    assert len(pairs) == len(LevelMark)
    assert len({style.symbol for style in MARK_STYLES.values()}) == len(LevelMark)
    for style in MARK_STYLES.values():
        contrast = 1.05 / (_luminance(style.colour) + 0.05)  # white symbol on the colour
        assert contrast >= 4.5, style
