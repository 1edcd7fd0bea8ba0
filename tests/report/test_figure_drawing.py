from __future__ import annotations

from reportlab.graphics import shapes as rl

from plugin.report.figure_drawing import figure_drawing
from plugin.report.figures import Circle, Figure, Group, Line, Rect, Text


def _figure() -> Figure:
    return Figure(
        id="fig",
        width=200,
        height=100,
        title="t",
        description=("d",),
        shapes=(
            Line(0, 10, 50, 10, dash=(3, 2)),
            Rect(10, 20, 30, 40, "#112233"),
            Group((Circle(5, 5, 2, "#ff0000"), Text(100, 90, "label", bold=True))),
        ),
    )


def test_same_shapes_with_y_flipped() -> None:
    drawing = figure_drawing(_figure(), font="Helvetica", bold_font="Helvetica-Bold")
    assert (drawing.width, drawing.height) == (200, 100)
    line, rect, group = drawing.contents
    assert isinstance(line, rl.Line) and (line.y1, line.y2) == (90, 90)
    assert line.strokeDashArray == [3, 2]
    assert isinstance(rect, rl.Rect)
    assert (rect.x, rect.y, rect.width, rect.height) == (10, 40, 30, 40)  # top 20 → bottom 40
    circle, text = group.contents
    assert isinstance(circle, rl.Circle) and circle.cy == 95
    assert isinstance(text, rl.String) and text.y == 10
    assert text.fontName == "Helvetica-Bold" and text.text == "label"
