"""The pressure–volume chart of one injected disc (x: volume in mL, y: pressure in psi).

Plots the recorded points — opening pressure (at the start of flow, 0 mL), pain onset (with
the pain intensity and response) and peak pressure (at the total volume) — joined by straight
lines, with a dashed reference line at opening pressure + each ΔP limit of the level's rule set
(lumbar-manometric: + 15 and + 50 psi as shipped; cervical-triangulation: + 50 psi; a site rule
set: its own), and none when the rule set has no ΔP limit. The manometer trace between the
points is not recorded, so the lines are only a guide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from plugin.interpretation.number_text import number_text
from plugin.interpretation.results import LevelResult, PressureLimit
from plugin.report import wording
from plugin.report.figure_svg import figure_svg
from plugin.report.figures import (
    Circle,
    Figure,
    Group,
    Line,
    Polyline,
    Rect,
    Shape,
    Text,
)
from plugin.study.model import Level, PainResponse

__all__ = [
    "ChartUnavailable",
    "has_manometry",
    "pressure_chart",
    "pressure_chart_svg",
]

_W = 258.0
_LEFT, _RIGHT, _TOP, _PLOT_BOTTOM = 40.0, 14.0, 34.0, 174.0
_KEY_LINE = 10.5
_MIN_PSI_AXIS = 10.0
_MIN_ML_AXIS = 0.5
_INK = "#1a1a1a"
_GRID = "#dddddd"
_REFERENCE = "#6a6a6a"
_TRACE = "#0b5394"
_PAIN = {
    PainResponse.CONCORDANT: "#b3261e",
    PainResponse.DISCORDANT: "#8a5000",
}


@dataclass(frozen=True, slots=True)
class ChartUnavailable:
    """Why a level with manometry has no chart, in words for the report."""

    level: str
    reason: str


def has_manometry(level: Level) -> bool:
    return any(
        value is not None
        for value in (level.opening_pressure_psi, level.onset_pressure_psi, level.peak_pressure_psi)
    )


def _nice_step(span: float, target_ticks: int) -> float:
    raw = span / target_ticks
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _axis_max(value: float, target_ticks: int) -> tuple[float, float]:
    step = _nice_step(max(value, 1e-6), target_ticks)
    return max(math.ceil(value / step - 1e-9), 1) * step, step


def _tick(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True, slots=True)
class _ReferenceLine:
    """One dashed line: opening pressure + a ΔP limit of the level's rule set."""

    delta_p_psi: float
    comparisons: tuple[str, ...]  # every limit drawn here: ("< 15 psi",)

    def pressure_psi(self, opening: float) -> float:
        # Summed as decimals, as written: float sums can add noise digits (10.1 + 0.2).
        return float(Decimal(repr(opening)) + Decimal(repr(self.delta_p_psi)))


def _reference_lines(result: LevelResult | None) -> tuple[_ReferenceLine, ...]:
    """The rule set's ΔP limits, lowest first; two limits of equal value share one line."""
    by_value: dict[float, list[PressureLimit]] = {}
    for limit in result.pressure_limits if result is not None else ():
        by_value.setdefault(limit.delta_p_psi, []).append(limit)
    return tuple(
        _ReferenceLine(value, tuple(dict.fromkeys(limit.comparison for limit in limits)))
        for value, limits in sorted(by_value.items())
    )


@dataclass(frozen=True, slots=True)
class _Scale:
    x_max: float
    y_max: float

    def x(self, volume: float) -> float:
        return _LEFT + (_W - _LEFT - _RIGHT) * volume / self.x_max

    def y(self, pressure: float) -> float:
        return _PLOT_BOTTOM - (_PLOT_BOTTOM - _TOP) * pressure / self.y_max


def _points(level: Level) -> list[tuple[str, float, float]]:
    points: list[tuple[str, float, float]] = []
    if level.opening_pressure_psi is not None:
        points.append(("opening", 0.0, level.opening_pressure_psi))
    if level.onset_pressure_psi is not None and level.onset_volume_ml is not None:
        points.append(("onset", level.onset_volume_ml, level.onset_pressure_psi))
    if level.peak_pressure_psi is not None and level.total_volume_ml is not None:
        points.append(("peak", level.total_volume_ml, level.peak_pressure_psi))
    return points


def _missing_reason(level: Level) -> str:
    if level.total_volume_ml is None and level.onset_volume_ml is None:
        return "volumes not recorded"
    if level.opening_pressure_psi is None:
        return "opening pressure not recorded"
    return "peak pressure not recorded"


def _axes(scale: _Scale, x_step: float, y_step: float) -> list[Shape]:
    shapes: list[Shape] = []
    x0, x1 = _LEFT, _W - _RIGHT
    y0, y1 = _PLOT_BOTTOM, _TOP
    value = 0.0
    while value <= scale.y_max + 1e-9:
        y = scale.y(value)
        shapes.append(Line(x0, y, x1, y, _GRID, 0.5))
        shapes.append(Text(x0 - 4, y + 2.5, _tick(value), 7, "end", fill=_INK))
        value += y_step
    value = 0.0
    while value <= scale.x_max + 1e-9:
        x = scale.x(value)
        shapes.append(Line(x, y0, x, y0 + 3, _INK, 0.6))
        shapes.append(Text(x, y0 + 12, _tick(value), 7, "middle", fill=_INK))
        value += x_step
    shapes += [
        Line(x0, y0, x1, y0, _INK, 0.8),
        Line(x0, y0, x0, y1, _INK, 0.8),
        Text(x0 - 4, y1 - 6, "psi", 7, "end", fill=_INK),
        Text((x0 + x1) / 2, y0 + 24, "Volume injected (mL)", 7.5, "middle", fill=_INK),
    ]
    return shapes


def _pain_text(level: Level) -> str:
    intensity = wording.pain_intensity(level.pain_intensity)
    response = wording.pain_response(level.pain_response).lower()
    return f"{intensity} {response}"


def _pain_colour(level: Level) -> str:
    return _PAIN.get(level.pain_response or PainResponse.NONE, _INK)


@dataclass(frozen=True, slots=True)
class _KeyEntry:
    marker: str  # "opening", "onset", "onset-line", "peak" or "reference"
    colour: str
    text: str


def _marker(kind: str, x: float, y: float, colour: str) -> tuple[Shape, ...]:
    if kind == "opening":
        return (Circle(x, y, 3.2, "#ffffff", colour, 1.2),)
    if kind == "onset":
        return (Circle(x, y, 4.2, colour, "#ffffff", 1.0),)
    if kind == "peak":
        return (Rect(x - 3.2, y - 3.2, 6.4, 6.4, colour),)
    if kind == "onset-line":
        return (Line(x - 6, y, x + 6, y, colour, 1.2, (1.5, 2)),)
    return (Line(x - 6, y, x + 6, y, colour, 0.8, (4, 3)),)


def _key(level: Level, result: LevelResult | None) -> list[_KeyEntry]:
    """What the chart shows, one entry per marker; also the chart's text alternative."""
    opening, onset, peak = (
        level.opening_pressure_psi,
        level.onset_pressure_psi,
        level.peak_pressure_psi,
    )
    entries: list[_KeyEntry] = []
    if opening is not None:
        entries.append(
            _KeyEntry("opening", _TRACE, f"Opening pressure {wording.psi(opening, unit=True)}")
        )
    if onset is not None:
        if level.onset_volume_ml is not None:
            where = f"at {wording.millilitres(level.onset_volume_ml, unit=True)}"
            marker = "onset"
        else:
            where, marker = "(volume not recorded)", "onset-line"
        entries.append(
            _KeyEntry(
                marker,
                _pain_colour(level),
                f"Pain onset {wording.psi(onset, unit=True)} {where}: {_pain_text(level)}",
            )
        )
    if peak is not None:
        where = (
            f"at {wording.millilitres(level.total_volume_ml, unit=True)}"
            if level.total_volume_ml is not None
            else "(total volume not recorded)"
        )
        no_pain = "; no pain" if level.pain_intensity == 0 else ""
        text = f"Peak pressure {wording.psi(peak, unit=True)} {where}{no_pain}"
        entries.append(_KeyEntry("peak", _TRACE, text))
    if opening is not None:
        # One key line per dashed line, so the key fits the chart's width; the section's note
        # names the rule set they come from.
        entries.extend(
            _KeyEntry(
                "reference",
                _REFERENCE,
                f"Opening + {number_text(line.delta_p_psi)} psi = "
                f"{wording.psi(line.pressure_psi(opening), unit=True)}: "
                f"ΔP limit {' and '.join(line.comparisons)}",
            )
            for line in _reference_lines(result)
        )
    return entries


def _chart_shapes(
    level: Level, references: tuple[_ReferenceLine, ...], key: list[_KeyEntry]
) -> tuple[list[Shape], float]:
    opening = level.opening_pressure_psi
    onset = level.onset_pressure_psi
    points = _points(level)
    pressures = [p for _, _, p in points] + [onset or 0.0, level.peak_pressure_psi or 0.0]
    if opening is not None:
        pressures.extend(line.pressure_psi(opening) for line in references)
    volumes = [v for _, v, _ in points] + [level.onset_volume_ml or 0.0]
    # floors keep the axes readable when every recorded value is 0
    y_max, y_step = _axis_max(max(max(pressures) * 1.08, _MIN_PSI_AXIS), 5)
    x_max, x_step = _axis_max(max(max(volumes) * 1.1, _MIN_ML_AXIS), 5)
    scale = _Scale(x_max, y_max)
    shapes = _axes(scale, x_step, y_step)

    if opening is not None:
        for line in references:
            y = scale.y(line.pressure_psi(opening))
            delta = number_text(line.delta_p_psi)
            shapes.append(
                Group(
                    (
                        Line(_LEFT, y, _W - _RIGHT, y, _REFERENCE, 0.8, (4, 3)),
                        Text(_LEFT + 3, y - 2.5, f"+{delta}", 6.5, fill=_REFERENCE),
                    ),
                    css_class=f"reference-line delta-{delta}",
                )
            )
    if onset is not None and level.onset_volume_ml is None:
        y = scale.y(onset)
        shapes.append(Line(_LEFT, y, _W - _RIGHT, y, _pain_colour(level), 1.2, (1.5, 2)))
    if len(points) >= 2:
        shapes.append(Polyline(tuple((scale.x(v), scale.y(p)) for _, v, p in points), _TRACE, 1.4))
    colours = {"opening": _TRACE, "onset": _pain_colour(level), "peak": _TRACE}
    for kind, volume, pressure in points:
        shapes.extend(_marker(kind, scale.x(volume), scale.y(pressure), colours[kind]))

    y = _PLOT_BOTTOM + 44
    for entry in key:
        shapes.extend(_marker(entry.marker, _LEFT + 4, y - 2.5, entry.colour))
        shapes.append(Text(_LEFT + 14, y, entry.text, 7, fill=_INK))
        y += _KEY_LINE
    return shapes, y


def pressure_chart(
    level: Level, result: LevelResult | None = None
) -> Figure | ChartUnavailable | None:
    """The chart of one level; `None` when no pressure was recorded (no manometry), or
    `ChartUnavailable` when too little was recorded to draw it. The dashed ΔP lines come from
    `result`'s rule set; without a result none is drawn."""
    if not has_manometry(level):
        return None
    if len(_points(level)) < 2:
        return ChartUnavailable(level.level, _missing_reason(level))
    key = _key(level, result)
    shapes, bottom = _chart_shapes(level, _reference_lines(result), key)
    delta_p = result.delta_p_psi if result and result.delta_p_psi is not None else level.delta_p_psi
    title = f"{level.level} pressure–volume"
    if delta_p is not None:
        title += f" · ΔP {wording.psi(delta_p, unit=True)}"
    return Figure(
        id=f"pressure-chart-{level.level}",
        width=_W,
        height=bottom,
        title=f"Pressure–volume chart of {level.level}",
        description=(f"{title}:", *(f"{entry.text}." for entry in key), *_limits_source(result)),
        shapes=(Text(_LEFT - 30, 13, title, 8.5, bold=True, fill=_INK), *shapes),
        css_class="figure pressure-chart",
    )


def _limits_source(result: LevelResult | None) -> tuple[str, ...]:
    """Where the dashed lines come from, for the text alternative."""
    if result is None:
        return ()
    rule_set = f"rule set {result.rule_set.id} version {result.rule_set.version}"
    if not result.pressure_limits:
        return (f"No dashed lines: {rule_set} sets no ΔP limit.",)
    return (f"Dashed lines: the ΔP limits of {rule_set}.",)


def pressure_chart_svg(level: Level, result: LevelResult | None = None) -> str | None:
    """The chart as an ``<svg>`` element, or `None` when there is nothing to draw."""
    chart = pressure_chart(level, result)
    return figure_svg(chart) if isinstance(chart, Figure) else None
