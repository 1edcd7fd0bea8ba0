"""Any valid study the engine can interpret renders, and every level shows in every part."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugin.interpretation import interpret_study
from plugin.report.contents import build_report_document
from plugin.report.html import render_html
from plugin.report.plain_text import WIDTH, render_text
from plugin.study.levels import DISC_LEVELS
from plugin.study.validation import parse_study
from tests.report.builders import ISSUED

_pressure = st.one_of(st.none(), st.floats(min_value=0, max_value=120, allow_nan=False))
_volume = st.one_of(st.none(), st.floats(min_value=0, max_value=4, allow_nan=False))


@st.composite
def _level(draw: st.DrawFn, name: str) -> dict[str, Any]:
    completed = draw(st.booleans()) or draw(st.booleans())
    pain = draw(st.integers(min_value=0, max_value=10))
    response = "none" if pain == 0 else draw(st.sampled_from(["concordant", "discordant"]))
    opening = draw(_pressure)
    onset = None if pain == 0 or opening is None else opening + draw(st.floats(0, 80))
    peak = None if opening is None else max(opening, onset or 0) + draw(st.floats(0, 40))
    total = draw(_volume)
    onset_volume = None if pain == 0 or total is None else total * draw(st.floats(0, 1))
    return {
        "level": name,
        "role": draw(st.sampled_from(["suspected", "control"])),
        "technical_result": "completed" if completed else "not-entered",
        "pain_intensity": pain,
        "pain_response": response,
        "opening_pressure_psi": opening,
        "onset_pressure_psi": onset,
        "peak_pressure_psi": peak,
        "onset_volume_ml": onset_volume,
        "total_volume_ml": total,
        "dallas_grade": draw(st.one_of(st.none(), st.integers(0, 5))),
        "pain_location": draw(
            st.one_of(st.none(), st.text(min_size=1, max_size=40).filter(str.strip))
        ),
    }


@st.composite
def _study(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(st.integers(0, len(DISC_LEVELS) - 1))
    count = draw(st.integers(1, min(5, len(DISC_LEVELS) - start)))
    names = DISC_LEVELS[start : start + count]
    return {"levels": [draw(_level(name)) for name in names]}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_study())
def test_any_interpretable_study_renders(data: dict[str, Any]) -> None:
    validated = parse_study(data)
    interp = interpret_study(validated.study)
    document = build_report_document(
        validated.study, interp, issued=ISSUED, warnings=validated.warnings
    )
    html = render_html(document)
    text = render_text(document)
    for level in validated.study.levels:
        assert f'data-level="{level.level}"' in html
        assert level.level in text
    assert all(len(line) <= WIDTH * 2 for line in text.splitlines())
