from __future__ import annotations

import xml.etree.ElementTree as ET

from plugin.report.figure_svg import figure_svg
from plugin.report.figures import Circle, Figure, Group, Line, Polygon, Polyline, Rect, Text

SVG = "{http://www.w3.org/2000/svg}"


def _figure(text: str) -> Figure:
    return Figure(
        id="fig",
        width=100,
        height=50,
        title=f"title {text}",
        description=(f"desc {text}",),
        shapes=(
            Line(0, 0, 10, 10, dash=(2, 1)),
            Polyline(((0, 0), (5, 5.5))),
            Rect(1, 2, 3, 4, "#ffffff", "#000000", radius=1),
            Circle(5, 5, 2, "#ff0000"),
            Polygon(((0, 0), (1, 0), (0, 1))),
            Group(
                (Text(1, 2, text, anchor="middle", bold=True),),
                css_class="label",
                title=text,
                data=(("level", text),),
            ),
        ),
    )


def test_hostile_text_stays_text() -> None:
    hostile = '<script>alert("x")</script> & \' "'
    svg = figure_svg(_figure(hostile))
    assert "<script>" not in svg
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == [hostile]
    group = next(root.iter(f"{SVG}g"))
    assert group.attrib["data-level"] == hostile
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == f"title {hostile}"


def test_every_shape_becomes_its_svg_element() -> None:
    root = ET.fromstring(figure_svg(_figure("x")))
    tags = [el.tag.removeprefix(SVG) for el in root.iter()]
    for tag in ("line", "polyline", "rect", "circle", "polygon", "g", "text", "title", "desc"):
        assert tag in tags
    line = root.find(f"{SVG}line")
    assert line is not None and line.attrib["stroke-dasharray"] == "2 1"
    polyline = root.find(f"{SVG}polyline")
    assert polyline is not None and polyline.attrib["points"] == "0,0 5,5.5"
    text = root.find(f".//{SVG}text")
    assert text is not None
    assert text.attrib["text-anchor"] == "middle" and text.attrib["font-weight"] == "bold"
    assert root.attrib["viewBox"] == "0 0 100 50"


def test_non_latin_text_round_trips() -> None:
    words = "腰痛 — боль в пояснице — ألم"
    root = ET.fromstring(figure_svg(_figure(words)))
    assert [t.text for t in root.iter(f"{SVG}text")] == [words]
