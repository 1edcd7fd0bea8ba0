"""A `Figure` as an SVG element for inline use in HTML.

Built with xml.etree, which escapes every text node and attribute value, so no text in a
figure can break out of the markup.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

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

__all__ = ["FONT_FAMILY", "figure_svg"]

#: The PDF draws with DejaVu Sans; the browser uses it too where installed.
FONT_FAMILY = "'DejaVu Sans', Verdana, Arial, sans-serif"


def _n(value: float) -> str:
    shown = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if shown == "-0" else shown


def _points(points: tuple[tuple[float, float], ...]) -> str:
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in points)


def _paint(element: ET.Element, fill: str | None, stroke: str | None, width: float) -> None:
    element.set("fill", fill or "none")
    if stroke:
        element.set("stroke", stroke)
        element.set("stroke-width", _n(width))


def _dash(element: ET.Element, dash: tuple[float, ...]) -> None:
    if dash:
        element.set("stroke-dasharray", " ".join(_n(d) for d in dash))


def _add(parent: ET.Element, shape: Shape) -> None:
    if isinstance(shape, Line):
        el = ET.SubElement(parent, "line")
        for name, value in (("x1", shape.x1), ("y1", shape.y1), ("x2", shape.x2), ("y2", shape.y2)):
            el.set(name, _n(value))
        _paint(el, None, shape.stroke, shape.width)
        _dash(el, shape.dash)
    elif isinstance(shape, Polyline):
        el = ET.SubElement(parent, "polyline", points=_points(shape.points))
        _paint(el, None, shape.stroke, shape.width)
        _dash(el, shape.dash)
    elif isinstance(shape, Rect):
        el = ET.SubElement(parent, "rect")
        for name, value in (
            ("x", shape.x),
            ("y", shape.y),
            ("width", shape.width),
            ("height", shape.height),
        ):
            el.set(name, _n(value))
        if shape.radius:
            el.set("rx", _n(shape.radius))
        _paint(el, shape.fill, shape.stroke, shape.stroke_width)
    elif isinstance(shape, Circle):
        el = ET.SubElement(parent, "circle", cx=_n(shape.cx), cy=_n(shape.cy), r=_n(shape.r))
        _paint(el, shape.fill, shape.stroke, shape.stroke_width)
    elif isinstance(shape, Polygon):
        el = ET.SubElement(parent, "polygon", points=_points(shape.points))
        _paint(el, shape.fill, shape.stroke, shape.stroke_width)
    elif isinstance(shape, Text):
        el = ET.SubElement(parent, "text", x=_n(shape.x), y=_n(shape.y))
        el.set("font-size", _n(shape.size))
        el.set("fill", shape.fill)
        if shape.anchor != "start":
            el.set("text-anchor", shape.anchor)
        if shape.bold:
            el.set("font-weight", "bold")
        el.text = shape.text
    else:
        _add_group(parent, shape)


def _add_group(parent: ET.Element, group: Group) -> None:
    el = ET.SubElement(parent, "g")
    if group.css_class:
        el.set("class", group.css_class)
    for name, value in group.data:
        el.set(f"data-{name}", value)
    if group.title:
        ET.SubElement(el, "title").text = group.title
    for shape in group.shapes:
        _add(el, shape)


def figure_svg(figure: Figure) -> str:
    """The figure as a standalone ``<svg>`` element (valid XML, usable inline in HTML)."""
    title_id, desc_id = f"{figure.id}-title", f"{figure.id}-desc"
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "id": figure.id,
            "class": figure.css_class,
            "viewBox": f"0 0 {_n(figure.width)} {_n(figure.height)}",
            "width": _n(figure.width),
            "height": _n(figure.height),
            "role": "img",
            "aria-labelledby": f"{title_id} {desc_id}",
            "font-family": FONT_FAMILY,
        },
    )
    ET.SubElement(svg, "title", id=title_id).text = figure.title
    ET.SubElement(svg, "desc", id=desc_id).text = " ".join(figure.description)
    for shape in figure.shapes:
        _add(svg, shape)
    return ET.tostring(svg, encoding="unicode")
