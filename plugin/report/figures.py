"""A figure as a neutral list of shapes, drawn the same way as SVG (HTML) and as a reportlab
Drawing (PDF), so the two cannot show different things.

Coordinates are in points, origin at the top left, y growing downwards (as in SVG); the
reportlab side flips them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "Circle",
    "Figure",
    "Group",
    "Line",
    "Polygon",
    "Polyline",
    "Rect",
    "Shape",
    "Text",
    "TextAnchor",
]

TextAnchor = Literal["start", "middle", "end"]
Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = "#000000"
    width: float = 1.0
    dash: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class Polyline:
    points: tuple[Point, ...]
    stroke: str = "#000000"
    width: float = 1.0
    dash: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str | None = None
    stroke: str | None = None
    stroke_width: float = 1.0
    radius: float = 0.0


@dataclass(frozen=True, slots=True)
class Circle:
    cx: float
    cy: float
    r: float
    fill: str | None = None
    stroke: str | None = None
    stroke_width: float = 1.0


@dataclass(frozen=True, slots=True)
class Polygon:
    points: tuple[Point, ...]
    fill: str | None = None
    stroke: str | None = None
    stroke_width: float = 1.0


@dataclass(frozen=True, slots=True)
class Text:
    """One line of text; `y` is the baseline."""

    x: float
    y: float
    text: str
    size: float = 8.0
    anchor: TextAnchor = "start"
    bold: bool = False
    fill: str = "#000000"


@dataclass(frozen=True, slots=True)
class Group:
    """Shapes that belong together, e.g. one disc and its label.

    `css_class` and `data` become SVG attributes (``data-level="L4-L5"``); `title` is the
    group's accessible name.
    """

    shapes: tuple[Shape, ...]
    css_class: str | None = None
    title: str | None = None
    data: tuple[tuple[str, str], ...] = ()


Shape = Line | Polyline | Rect | Circle | Polygon | Text | Group


@dataclass(frozen=True, slots=True)
class Figure:
    """A drawing with its accessible name (`title`) and a text alternative (`description`,
    one line per item) that the plain-text report prints in its place."""

    id: str  # unique within one report; used for SVG element ids
    width: float
    height: float
    title: str
    description: tuple[str, ...]
    shapes: tuple[Shape, ...]
    css_class: str = "figure"
