from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from plugin.interpretation import interpret_study
from plugin.interpretation.results import LevelResult
from plugin.interpretation.rule_set import RuleSetLibrary, default_rule_sets, parse_rule_set
from plugin.report.figures import Figure, Group, Line, Polyline, Shape, Text
from plugin.report.pressure_chart import (
    ChartUnavailable,
    has_manometry,
    pressure_chart,
    pressure_chart_svg,
)
from plugin.study.model import INJECTED_VOLUME_LIMIT_ML, MANOMETER_LIMIT_PSI, Level, Study

SVG = "{http://www.w3.org/2000/svg}"


def _level(**fields: Any) -> Level:
    return Level.model_validate({"level": "L4-L5", **fields})


FULL = {
    "opening_pressure_psi": 10.0,
    "onset_pressure_psi": 18.0,
    "peak_pressure_psi": 40.0,
    "onset_volume_ml": 1.0,
    "total_volume_ml": 2.0,
    "pain_intensity": 8,
    "pain_response": "concordant",
}


def _result(level: Level, library: RuleSetLibrary | None = None) -> LevelResult:
    """The level interpreted alone, by its default rule set (lumbar-manometric for L4-L5)."""
    interpretation = interpret_study(Study(levels=[level]), library)
    return interpretation.levels[0]


def _chart(**fields: Any) -> Figure:
    level = _level(**fields)
    chart = pressure_chart(level, _result(level))
    assert isinstance(chart, Figure)
    return chart


def _svg(**fields: Any) -> str:
    level = _level(**fields)
    return pressure_chart_svg(level, _result(level)) or ""


def _flatten(shapes: tuple[Shape, ...]) -> list[Shape]:
    out: list[Shape] = []
    for shape in shapes:
        out.extend(_flatten(shape.shapes) if isinstance(shape, Group) else [shape])
    return out


def test_no_chart_without_manometry() -> None:
    level = _level(pain_intensity=0, pain_response="none", total_volume_ml=1.5)
    assert not has_manometry(level)
    assert pressure_chart(level) is None
    assert pressure_chart_svg(level) is None


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"opening_pressure_psi": 10.0, "peak_pressure_psi": 40.0}, "volumes not recorded"),
        ({"peak_pressure_psi": 40.0, "total_volume_ml": 2.0}, "opening pressure not recorded"),
    ],
)
def test_too_little_data_says_why(fields: dict[str, Any], reason: str) -> None:
    chart = pressure_chart(_level(**fields))
    assert chart == ChartUnavailable("L4-L5", reason)


def test_reference_lines_sit_at_opening_plus_15_and_plus_50() -> None:
    chart = _chart(**FULL)
    svg = ET.fromstring(_svg(**FULL))
    groups = {g.get("class"): g for g in svg.iter(f"{SVG}g")}
    assert {"reference-line delta-15", "reference-line delta-50"} <= set(groups)
    trace = next(s for s in _flatten(chart.shapes) if isinstance(s, Polyline))
    (_, y_opening), (_, y_onset), (_, y_peak) = trace.points
    per_psi = (y_opening - y_peak) / (40.0 - 10.0)  # y grows downwards
    assert y_opening - y_onset == pytest.approx(8.0 * per_psi)
    for delta, css in ((15, "reference-line delta-15"), (50, "reference-line delta-50")):
        line = groups[css].find(f"{SVG}line")
        assert line is not None and line.get("stroke-dasharray")
        assert float(line.attrib["y1"]) == pytest.approx(y_opening - delta * per_psi, abs=0.01)


def test_onset_is_marked_with_intensity_and_response() -> None:
    chart = _chart(**FULL)
    assert "Pain onset 18 psi at 1 mL: 8/10 concordant." in chart.description
    assert "Peak pressure 40 psi at 2 mL." in chart.description
    assert "Opening + 15 psi = 25 psi: ΔP limit < 15 psi." in chart.description
    assert "Opening + 50 psi = 60 psi: ΔP limit < 50 psi." in chart.description
    assert (
        "Dashed lines: the ΔP limits of rule set lumbar-manometric version 1.0.0."
        in chart.description
    )
    svg = _svg(**FULL)
    assert "8/10 concordant" in svg
    assert "ΔP 8 psi" in svg


def test_onset_without_volume_is_drawn_as_a_pressure_line() -> None:
    fields = {**FULL, "onset_volume_ml": None}
    chart = _chart(**fields)
    assert "Pain onset 18 psi (volume not recorded): 8/10 concordant." in chart.description
    trace = next(s for s in _flatten(chart.shapes) if isinstance(s, Polyline))
    assert len(trace.points) == 2  # opening and peak only
    dotted = [s for s in _flatten(chart.shapes) if isinstance(s, Line) and s.dash == (1.5, 2)]
    assert len(dotted) >= 1


def test_painless_control_says_no_pain_up_to_peak() -> None:
    chart = _chart(
        opening_pressure_psi=12.0,
        peak_pressure_psi=95.0,
        total_volume_ml=1.5,
        pain_intensity=0,
        pain_response="none",
    )
    assert "Peak pressure 95 psi at 1.5 mL; no pain." in chart.description


def test_axes_cover_every_point() -> None:
    chart = _chart(**{**FULL, "peak_pressure_psi": 130.0, "total_volume_ml": 3.4})
    trace = next(s for s in _flatten(chart.shapes) if isinstance(s, Polyline))
    for x, y in trace.points:
        assert 0 < x <= chart.width and 0 < y <= chart.height


def test_the_largest_values_a_level_can_hold_are_drawn_within_the_chart() -> None:
    # The study model bounds pressures and volumes; at those bounds the axes still fit.
    chart = _chart(
        **{
            **FULL,
            "opening_pressure_psi": MANOMETER_LIMIT_PSI,
            "onset_pressure_psi": MANOMETER_LIMIT_PSI,
            "peak_pressure_psi": MANOMETER_LIMIT_PSI,
            "onset_volume_ml": INJECTED_VOLUME_LIMIT_ML,
            "total_volume_ml": INJECTED_VOLUME_LIMIT_ML,
        }
    )
    trace = next(s for s in _flatten(chart.shapes) if isinstance(s, Polyline))
    for x, y in trace.points:
        assert 0 < x <= chart.width and 0 < y <= chart.height
    ticks = [s.text for s in _flatten(chart.shapes) if isinstance(s, Text)]
    assert "600" in ticks and "25" in ticks  # 550 psi reference line and 20 mL, rounded up


def test_chart_svg_is_well_formed_and_named() -> None:
    root = ET.fromstring(_svg(**FULL))
    assert root.attrib["id"] == "pressure-chart-L4-L5"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == "Pressure–volume chart of L4-L5"


def test_all_zero_values_still_give_readable_axes() -> None:
    chart = _chart(
        opening_pressure_psi=0.0,
        onset_pressure_psi=0.0,
        peak_pressure_psi=0.0,
        onset_volume_ml=0.0,
        total_volume_ml=0.0,
        pain_intensity=1,
        pain_response="concordant",
    )
    ticks = [s.text for s in _flatten(chart.shapes) if isinstance(s, Text)]
    assert "0.5" in ticks and "60" in ticks  # volume axis to 0.5 mL; psi axis past opening + 50


def _reference_css(chart: Figure) -> set[str]:
    return {
        s.css_class
        for s in chart.shapes
        if isinstance(s, Group) and s.css_class and s.css_class.startswith("reference-line")
    }


def test_a_cervical_level_shows_only_its_rule_sets_limit() -> None:
    """Review: the lines were opening + 15 and + 50 whatever the rule set; cervical-triangulation
    judges ΔP only against < 50 psi."""
    level = Level.model_validate({**FULL, "level": "C5-C6", "onset_volume_ml": 0.3})
    chart = pressure_chart(level, _result(level))
    assert isinstance(chart, Figure)
    assert _reference_css(chart) == {"reference-line delta-50"}
    assert "Opening + 50 psi = 60 psi: ΔP limit < 50 psi." in chart.description
    assert not any("+ 15 psi" in line for line in chart.description)
    assert "cervical-triangulation version 1.1.0" in chart.description[-1]


def test_a_site_rule_set_draws_its_own_limits() -> None:
    shipped = default_rule_sets().get("lumbar-manometric")
    assert shipped is not None
    data = shipped.model_dump(mode="json")
    data["version"] = "1.1.0-site"
    data["thresholds"]["definite_delta_p_psi"] = {"value": 10.5, "operator": "<="}
    data["thresholds"]["positive_delta_p_psi"] = {"value": 40, "operator": "<"}
    library = default_rule_sets().with_rule_sets([parse_rule_set(data)])
    level = _level(**FULL)
    chart = pressure_chart(level, _result(level, library))
    assert isinstance(chart, Figure)
    assert _reference_css(chart) == {"reference-line delta-10.5", "reference-line delta-40"}
    assert "Opening + 10.5 psi = 20.5 psi: ΔP limit ≤ 10.5 psi." in chart.description
    assert "Opening + 40 psi = 50 psi: ΔP limit < 40 psi." in chart.description
    assert "lumbar-manometric version 1.1.0-site" in chart.description[-1]


def test_no_lines_without_limits_or_without_a_result() -> None:
    level = _level(**FULL)
    without_limits = _result(level).model_copy(update={"pressure_limits": ()})
    chart = pressure_chart(level, without_limits)
    assert isinstance(chart, Figure)
    assert _reference_css(chart) == set()
    assert chart.description[-1] == (
        "No dashed lines: rule set lumbar-manometric version 1.0.0 sets no ΔP limit."
    )
    bare = pressure_chart(level)
    assert isinstance(bare, Figure) and _reference_css(bare) == set()
