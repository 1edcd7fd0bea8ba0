from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from plugin.errors import InputProblemError
from plugin.interpretation.results import LevelCategory, LevelResult
from plugin.report.spine_diagram import spine_diagram, spine_diagram_svg
from tests.report.builders import interpretation, level_data, result, study

NS = {"svg": "http://www.w3.org/2000/svg"}


def _discs(svg: str) -> dict[str, str]:
    root = ET.fromstring(svg)
    return {
        g.attrib["data-level"]: g.attrib["class"]
        for g in root.iter("{http://www.w3.org/2000/svg}g")
        if "data-level" in g.attrib
    }


def _lumbar() -> tuple[str, list[LevelResult]]:
    results = [
        result("L2-L3", LevelCategory.INDETERMINATE),
        result("L3-L4", LevelCategory.NEGATIVE, role="control"),
        result("L4-L5", LevelCategory.DEFINITE, controls=("L3-L4", "L5-S1")),
        result("L5-S1", LevelCategory.NEGATIVE),
    ]
    s = study(
        [
            level_data("L2-L3", pain_intensity=8, pain_response="concordant"),
            level_data("L3-L4", role="control"),
            level_data("L4-L5", pain_intensity=8, pain_response="concordant"),
            level_data("L5-S1"),
        ]
    )
    return spine_diagram_svg(s, interpretation(*results)), results


def test_each_tested_level_carries_the_class_of_its_result() -> None:
    svg, _ = _lumbar()
    discs = _discs(svg)
    assert discs["L2-L3"] == "disc disc-indeterminate"
    assert discs["L3-L4"] == "disc disc-control"
    assert discs["L4-L5"] == "disc disc-positive"
    assert discs["L5-S1"] == "disc disc-negative"
    # one disc above the highest tested level is drawn for orientation; S1 ends the column
    assert discs["L1-L2"] == "disc disc-untested"
    assert set(discs) == {"L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1"}


def test_not_assessable_level_is_marked_as_such() -> None:
    s = study([level_data("C5-C6", technical_result="not-entered"), level_data("C6-C7")])
    interp = interpretation(
        result("C5-C6", LevelCategory.NOT_ASSESSABLE), result("C6-C7", LevelCategory.NEGATIVE)
    )
    discs = _discs(spine_diagram_svg(s, interp))
    assert discs["C5-C6"] == "disc disc-not-assessable"
    assert discs["C4-C5"] == discs["C7-T1"] == "disc disc-untested"


def test_diagram_is_well_formed_svg_with_accessible_name_and_legend() -> None:
    svg, _ = _lumbar()
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.attrib["role"] == "img"
    title_id, desc_id = root.attrib["aria-labelledby"].split()
    title = root.find("svg:title", NS)
    desc = root.find("svg:desc", NS)
    assert title is not None and title.attrib["id"] == title_id
    assert desc is not None and desc.attrib["id"] == desc_id
    assert "L4-L5" in (title.text or "")
    legend = next(
        g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "legend"
    )
    legend_text = " ".join(t.text or "" for t in legend.iter("{http://www.w3.org/2000/svg}text"))
    for word in ("Positive (POS)", "Negative (NEG)", "Control", "Indeterminate", "Not assessable"):
        assert word in legend_text


def test_each_mark_has_its_own_symbol_not_only_a_colour() -> None:
    svg, _ = _lumbar()
    root = ET.fromstring(svg)
    symbols = {}
    for g in root.iter("{http://www.w3.org/2000/svg}g"):
        if "data-mark" in g.attrib:
            texts = [t.text for t in g.iter("{http://www.w3.org/2000/svg}text")]
            symbols[g.attrib["data-mark"]] = texts
            title = g.find("svg:title", NS)
            assert title is not None and g.attrib["data-level"] in (title.text or "")
    assert "+" in symbols["positive"] and "C" in symbols["control"]
    assert "?" in symbols["indeterminate"] and "−" in symbols["negative"]


def test_labels_say_which_level_served_as_control() -> None:
    svg, _ = _lumbar()
    root = ET.fromstring(svg)
    control = next(
        g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("data-level") == "L3-L4"
    )
    text = " ".join(t.text or "" for t in control.iter("{http://www.w3.org/2000/svg}text"))
    assert "control for L4-L5" in text


def test_long_untested_stretch_is_folded() -> None:
    s = study([level_data("C6-C7"), level_data("L4-L5")])
    interp = interpretation(
        result("C6-C7", LevelCategory.NEGATIVE), result("L4-L5", LevelCategory.NEGATIVE)
    )
    figure = spine_diagram(s, interp)
    svg = spine_diagram_svg(s, interp)
    discs = _discs(svg)
    # C5-C6 above, C7-T1 below, and the neighbours around the fold stay; the middle is folded
    assert {"C5-C6", "C6-C7", "C7-T1", "L3-L4", "L4-L5", "L5-S1"} <= set(discs)
    assert "T5-T6" not in discs
    assert "T1-T2 to L2-L3 not injected" in svg
    assert figure.height < 400


def test_text_alternative_lists_every_tested_level() -> None:
    s = study([level_data("L4-L5"), level_data("L5-S1")])
    interp = interpretation(
        result("L4-L5", LevelCategory.NEGATIVE), result("L5-S1", LevelCategory.NEGATIVE)
    )
    description = spine_diagram(s, interp).description
    assert [line.split(":")[0] for line in description] == ["L4-L5", "L5-S1"]


def test_interpretation_of_other_levels_is_refused() -> None:
    s = study([level_data("L4-L5")])
    with pytest.raises(InputProblemError):
        spine_diagram(s, interpretation(result("L5-S1", LevelCategory.NEGATIVE)))
