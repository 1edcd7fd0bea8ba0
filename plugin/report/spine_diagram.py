"""The spinal column around the injected discs, each marked with its result.

Shows the discs from one above the highest injected disc to one below the lowest; a run of
more than `_MAX_UNTESTED_RUN` untested discs between injected ones is folded into a break so
a cervical-and-lumbar study stays readable. Each injected disc carries a colour, a shaped
marker with a symbol and a written label (not colour alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from plugin.interpretation.results import StudyInterpretation
from plugin.report import wording
from plugin.report.figure_svg import figure_svg
from plugin.report.figures import Circle, Figure, Group, Line, Polygon, Rect, Shape, Text
from plugin.report.marks import MARK_STYLES, LevelMark, MarkStyle
from plugin.report.tested_levels import TestedLevel, tested_levels
from plugin.study.levels import DISC_LEVELS, level_index
from plugin.study.model import LevelRole, PainResponse, Study

__all__ = ["disc_marker", "spine_diagram", "spine_diagram_figure", "spine_diagram_svg"]

_MAX_UNTESTED_RUN = 2
_WIDTH = 420.0
_TOP = 8.0
_COLUMN_X = 52.0
_COLUMN_W = 60.0
_VERTEBRA_H = 22.0
_DISC_H = 11.0
_BREAK_H = 26.0
_MARKER_X = 140.0
_LABEL_X = 156.0
_BONE = "#e9e4d8"
_BONE_EDGE = "#8c8473"
_UNTESTED_DISC = "#f6f3ec"
_INK = "#1a1a1a"
_MUTED = "#555555"


@dataclass(frozen=True, slots=True)
class _Break:
    first: str
    last: str


def _rows(tested: Sequence[TestedLevel]) -> list[int | _Break]:
    """Disc indices to draw, with long untested runs folded into breaks."""
    indices = sorted(level_index(t.name) for t in tested)
    start, stop = max(indices[0] - 1, 0), min(indices[-1] + 1, len(DISC_LEVELS) - 1)
    tested_set = set(indices)
    rows: list[int | _Break] = []
    run: list[int] = []
    for index in range(start, stop + 1):
        if index in tested_set:
            if len(run) > _MAX_UNTESTED_RUN:
                rows += [run[0], _Break(DISC_LEVELS[run[1]], DISC_LEVELS[run[-2]]), run[-1]]
            else:
                rows += run
            run = []
            rows.append(index)
        else:
            run.append(index)
    return rows + run


def disc_marker(mark: LevelMark, cx: float, cy: float, r: float) -> tuple[Shape, ...]:
    """The marker of a mark: its shape in its colour with its symbol in white."""
    style = MARK_STYLES[mark]
    outline: Shape
    if style.shape == "diamond":
        d = r * 1.3
        outline = Polygon(((cx, cy - d), (cx + d, cy), (cx, cy + d), (cx - d, cy)), style.colour)
    elif style.shape in ("square", "cross-square"):
        outline = Rect(cx - r, cy - r, 2 * r, 2 * r, style.colour, radius=1.5)
    else:
        outline = Circle(cx, cy, r, style.colour)
    size = r * 1.45
    return (
        outline,
        Text(cx, cy + size * 0.36, style.symbol, size, "middle", bold=True, fill="#ffffff"),
    )


def _vertebra(name: str, y: float) -> tuple[Shape, ...]:
    x, w, h = _COLUMN_X, _COLUMN_W, _VERTEBRA_H
    body: Shape
    if name == "S1":  # the sacrum narrows downwards
        body = Polygon(
            ((x, y), (x + w, y), (x + w - 12, y + h), (x + 12, y + h)), _BONE, _BONE_EDGE, 0.8
        )
    else:
        body = Rect(x, y, w, h, _BONE, _BONE_EDGE, 0.8, radius=3)
    return (body, Text(x + w / 2, y + h / 2 + 3, name, 8, "middle", fill=_INK))


def _pain_words(tested: TestedLevel) -> str | None:
    level = tested.level
    if level.pain_intensity is None:
        return None
    if level.pain_intensity == 0 or level.pain_response is PainResponse.NONE:
        return "no pain"
    response = wording.pain_response(level.pain_response).lower()
    return f"{level.pain_intensity}/10 {response}"


def _detail(tested: TestedLevel, controls_for: dict[str, list[str]]) -> str:
    level, result = tested.level, tested.result
    parts = [result.interpretation.value]
    if not level.completed:
        parts.append(wording.technical_result(level.technical_result).lower())
    if level.order is not None:
        parts.append(f"order {level.order}")
    if result.delta_p_psi is not None:
        parts.append(f"ΔP {wording.psi(result.delta_p_psi, unit=True)}")
    pain = _pain_words(tested)
    if pain:
        parts.append(pain)
    served = controls_for.get(tested.name)
    if served:
        parts.append(f"control for {', '.join(served)}")
    return " · ".join(parts)


def _headline(tested: TestedLevel) -> str:
    category = wording.category_name(tested.result.category)
    if tested.level.role is LevelRole.CONTROL:
        return f"{tested.name}  Control: {category.lower()}"
    return f"{tested.name}  {category}"


def _disc(
    tested: TestedLevel | None, name: str, y: float, controls_for: dict[str, list[str]]
) -> Shape:
    cy = y + _DISC_H / 2
    if tested is None:
        return Group(
            (
                Rect(_COLUMN_X + 5, y, _COLUMN_W - 10, _DISC_H, _UNTESTED_DISC, "#b9b09d", 0.6, 4),
                Text(_COLUMN_X - 6, cy + 2.5, name, 7, "end", fill=_MUTED),
            ),
            css_class="disc disc-untested",
            data=(("level", name),),
        )
    mark = tested.mark
    style: MarkStyle = MARK_STYLES[mark]
    detail = _detail(tested, controls_for)
    shapes: tuple[Shape, ...] = (
        Rect(_COLUMN_X + 3, y - 1, _COLUMN_W - 6, _DISC_H + 2, style.colour, _INK, 0.8, 5),
        Text(_COLUMN_X - 6, cy + 3, name, 8.5, "end", bold=True, fill=_INK),
        Line(_COLUMN_X + _COLUMN_W - 3, cy, _MARKER_X - 9, cy, _MUTED, 0.6, (2, 1.5)),
        *disc_marker(mark, _MARKER_X, cy, 7),
        Text(_LABEL_X, cy - 1, _headline(tested), 8.5, bold=True, fill=_INK),
        Text(_LABEL_X, cy + 9, detail, 7.5, fill=_INK),
    )
    return Group(
        shapes,
        css_class=f"disc disc-{mark.value}",
        title=f"{name}: {style.label}; {_headline(tested).split('  ', 1)[1]}; {detail}",
        data=(("level", name), ("mark", mark.value)),
    )


def _legend(y: float) -> tuple[Shape, float]:
    items: list[tuple[LevelMark | None, str]] = [
        (mark, MARK_STYLES[mark].label) for mark in LevelMark
    ]
    items.append((None, "Disc not injected"))
    shapes: list[Shape] = [Text(8, y + 8, "Key", 8, bold=True, fill=_INK)]
    column_w, row_h = 150.0, 17.0
    for i, (mark, label) in enumerate(items):
        row, col = divmod(i, 2)
        x = 40 + col * column_w + 60 * (col > 0)
        cy = y + 4 + row * row_h
        if mark is None:
            shapes.append(Rect(x - 8, cy - 4, 16, 8, _UNTESTED_DISC, "#b9b09d", 0.6, 3))
        else:
            shapes.extend(disc_marker(mark, x, cy, 5.5))
        shapes.append(Text(x + 12, cy + 3, label, 7.5, fill=_INK))
    height = ((len(items) + 1) // 2) * row_h + 6
    return Group(tuple(shapes), css_class="legend"), height


def _description(tested: Sequence[TestedLevel], controls_for: dict[str, list[str]]) -> list[str]:
    return [f"{t.name}: {MARK_STYLES[t.mark].label} — {_detail(t, controls_for)}" for t in tested]


def spine_diagram_figure(
    tested: Sequence[TestedLevel], *, figure_id: str = "spine-diagram"
) -> Figure:
    """The diagram for already-paired levels (see `tested_levels`)."""
    by_name = {t.name: t for t in tested}
    controls_for: dict[str, list[str]] = {}
    for t in tested:
        for control in t.result.controls:
            controls_for.setdefault(control, []).append(t.name)
    shapes: list[Shape] = []
    y = _TOP
    rows = _rows(tested)
    previous_was_break = False
    for position, row in enumerate(rows):
        if isinstance(row, _Break):
            shapes.append(
                Group(
                    (
                        Line(_COLUMN_X + 10, y + 6, _COLUMN_X + _COLUMN_W - 10, y + 2, _MUTED, 1),
                        Line(_COLUMN_X + 10, y + 11, _COLUMN_X + _COLUMN_W - 10, y + 7, _MUTED, 1),
                        Text(
                            _COLUMN_X + _COLUMN_W + 8,
                            y + 10,
                            f"{row.first} to {row.last} not injected (not drawn)",
                            7.5,
                            fill=_MUTED,
                        ),
                    ),
                    css_class="column-break",
                )
            )
            y += _BREAK_H - _VERTEBRA_H
            previous_was_break = True
            continue
        name = DISC_LEVELS[row]
        upper, lower = name.split("-")
        if position == 0 or previous_was_break:
            shapes.extend(_vertebra(upper, y))
            y += _VERTEBRA_H
        shapes.append(_disc(by_name.get(name), name, y, controls_for))
        y += _DISC_H
        shapes.extend(_vertebra(lower, y))
        y += _VERTEBRA_H
        previous_was_break = False
    legend, legend_h = _legend(y + 14)
    shapes.append(legend)
    names = ", ".join(t.name for t in tested)
    return Figure(
        id=figure_id,
        width=_WIDTH,
        height=y + 14 + legend_h + 4,
        title=f"Spinal column with the injected discs marked by result: {names}",
        description=tuple(_description(tested, controls_for)),
        shapes=tuple(shapes),
        css_class="figure spine-diagram",
    )


def spine_diagram(study: Study, interpretation: StudyInterpretation) -> Figure:
    """The spine diagram of a study; raises `InputProblemError` when the interpretation does
    not describe the study's levels."""
    return spine_diagram_figure(tested_levels(study, interpretation))


def spine_diagram_svg(study: Study, interpretation: StudyInterpretation) -> str:
    """The spine diagram as an ``<svg>`` element."""
    return figure_svg(spine_diagram(study, interpretation))
