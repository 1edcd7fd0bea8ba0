"""The setup form applied to the study document (pure)."""

import random

from smart_app.workflow.setup_form import apply_setup, redraw_order, setup_form_values


def form(*levels: str, region: str = "lumbar", **extra: str) -> dict[str, str]:
    fields = {"region": region, "technique-fields": "1", **extra}
    for level in levels:
        fields[f"inject-{level}"] = "on"
    return fields


def test_a_setup_becomes_levels_in_anatomical_order_with_roles_and_an_order() -> None:
    result = apply_setup(
        {"levels": []},
        form("L5-S1", "L4-L5", **{"control-L3-L4": "on"}),
        random.Random(3),
    )
    assert result.problems == ()
    levels = result.document["levels"]
    assert [lv["level"] for lv in levels] == ["L3-L4", "L4-L5", "L5-S1"]
    assert [lv["role"] for lv in levels] == ["control", "suspected", "suspected"]
    assert sorted(lv["order"] for lv in levels) == [1, 2, 3]
    assert result.document["technique"] == {"patient_blinded": False}
    assert setup_form_values(result.document)["control-L3-L4"] == "on"


def test_the_thoracolumbar_disc_belongs_to_a_lumbar_study() -> None:
    assert apply_setup({"levels": []}, form("T12-L1", "L1-L2")).problems == ()
    problems = apply_setup({"levels": []}, form("T11-T12", "L1-L2")).problems
    assert [(p.field, p.rule) for p in problems] == [("inject-T11-T12", "level-outside-region")]


def test_problems_leave_the_discs_alone_but_keep_the_typed_text() -> None:
    document = {"levels": [{"level": "L4-L5", "order": 1}], "indication": {"criteria_met": ["x"]}}
    result = apply_setup(
        document, form(region="", **{"technique-approach": "Right", "indication-text": "Why"})
    )
    assert {p.field for p in result.problems} == {"region", "levels"}
    assert result.document["levels"] == document["levels"]
    assert result.document["technique"]["approach"] == "Right"
    assert result.document["indication"] == {"criteria_met": ["x"], "text": "Why"}


def test_redrawing_is_refused_once_a_disc_has_results() -> None:
    drawn = apply_setup({"levels": []}, form("L4-L5", "L5-S1")).document
    assert redraw_order(drawn, random.Random(1)).problems == ()
    drawn["levels"][0]["pain_intensity"] = 3
    refused = redraw_order(drawn)
    assert [p.rule for p in refused.problems] == ["order-locked"]
    assert refused.document["levels"] == drawn["levels"]
