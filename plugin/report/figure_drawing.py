"""A `Figure` as a reportlab Drawing for the PDF: the same shapes as the SVG, y flipped
(reportlab's origin is the bottom left)."""

from __future__ import annotations

from reportlab.graphics import shapes as rl
from reportlab.lib.colors import Color, HexColor

from plugin.report.figures import (
    Circle,
    Figure,
    Group,
    Line,
    Polygon,
    Polyline,
    Rect,
    Shape,
    Text,
)

__all__ = ["figure_drawing"]


def _colour(value: str | None) -> Color | None:
    return HexColor(value) if value else None


class _Painter:
    def __init__(self, figure: Figure, font: str, bold_font: str) -> None:
        self._height = figure.height
        self._font = font
        self._bold_font = bold_font

    def _y(self, y: float) -> float:
        return self._height - y

    def _flat(self, points: tuple[tuple[float, float], ...]) -> list[float]:
        return [value for x, y in points for value in (x, self._y(y))]

    def shape(self, shape: Shape) -> rl.Shape:
        if isinstance(shape, Line):
            return rl.Line(
                shape.x1,
                self._y(shape.y1),
                shape.x2,
                self._y(shape.y2),
                strokeColor=_colour(shape.stroke),
                strokeWidth=shape.width,
                strokeDashArray=list(shape.dash) or None,
            )
        if isinstance(shape, Polyline):
            return rl.PolyLine(
                self._flat(shape.points),
                strokeColor=_colour(shape.stroke),
                strokeWidth=shape.width,
                strokeDashArray=list(shape.dash) or None,
            )
        if isinstance(shape, Rect):
            return rl.Rect(
                shape.x,
                self._y(shape.y + shape.height),
                shape.width,
                shape.height,
                rx=shape.radius,
                ry=shape.radius,
                fillColor=_colour(shape.fill),
                strokeColor=_colour(shape.stroke),
                strokeWidth=shape.stroke_width,
            )
        if isinstance(shape, Circle):
            return rl.Circle(
                shape.cx,
                self._y(shape.cy),
                shape.r,
                fillColor=_colour(shape.fill),
                strokeColor=_colour(shape.stroke),
                strokeWidth=shape.stroke_width,
            )
        if isinstance(shape, Polygon):
            return rl.Polygon(
                self._flat(shape.points),
                fillColor=_colour(shape.fill),
                strokeColor=_colour(shape.stroke),
                strokeWidth=shape.stroke_width,
            )
        if isinstance(shape, Text):
            return rl.String(
                shape.x,
                self._y(shape.y),
                shape.text,
                fontName=self._bold_font if shape.bold else self._font,
                fontSize=shape.size,
                fillColor=_colour(shape.fill),
                textAnchor=shape.anchor,
            )
        return self.group(shape)

    def group(self, group: Group) -> rl.Group:
        return rl.Group(*(self.shape(s) for s in group.shapes))


def figure_drawing(figure: Figure, *, font: str, bold_font: str) -> rl.Drawing:
    """The figure as a platypus-ready Drawing, text in the given (registered) fonts."""
    painter = _Painter(figure, font, bold_font)
    drawing = rl.Drawing(figure.width, figure.height)
    for shape in figure.shapes:
        drawing.add(painter.shape(shape))
    return drawing
