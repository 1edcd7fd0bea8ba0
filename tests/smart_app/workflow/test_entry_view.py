"""The results page and its interpretation panel, built from the document (pure)."""

from smart_app.workflow.entry_view import disc_entries, panel_view, study_fields
from smart_app.workflow.study_check import check_study

DOCUMENT = {
    "levels": [
        {
            "level": "L3-L4",
            "role": "control",
            "order": 2,
            "pain_intensity": 0,
            "pain_response": "none",
        },
        {"level": "L4-L5", "order": 1, "opening_pressure_psi": 10.0, "leak": "sideways"},
        {"level": "L5-S1", "order": 3},
    ],
    "performed": "2026-11-20T09:30:00Z",
    "complications": [{"code": "vasovagal"}, {"code": "other", "text": "nausea"}],
}


def test_discs_come_in_injection_order_with_values_as_the_inputs_show_them() -> None:
    entries = disc_entries(DOCUMENT, check_study(DOCUMENT))
    assert [(e.order, e.name, e.role) for e in entries] == [
        (1, "L4-L5", "suspected"),
        (2, "L3-L4", "control"),
        (3, "L5-S1", "suspected"),
    ]
    l4 = {f.field.name: f for f in entries[0].fields}
    assert l4["opening_pressure_psi"].value == "10"
    assert l4["technical_result"].value == "completed"  # what the study assumes
    assert not l4["leak"].known_choice and l4["leak"].value == "sideways"  # kept, shown
    assert [e.progress for e in entries] == [
        "values missing or to correct",
        "interpreted",
        "not recorded yet",
    ]


def test_study_fields_split_the_time_and_the_complications() -> None:
    fields = study_fields(DOCUMENT)
    assert (fields.performed_local, fields.performed_offset) == ("2026-11-20T09:30:00", "+00:00")
    assert fields.complications == {"vasovagal"} and fields.other_complication == "nausea"


def test_the_panel_reads_cranial_to_caudal_and_names_what_is_pending() -> None:
    panel = panel_view(DOCUMENT, check_study(DOCUMENT), ["L5-S1: please check"])
    assert [p.name for p in panel.levels] == ["L3-L4", "L4-L5", "L5-S1"]
    assert panel.provisional and panel.pending == ("L4-L5", "L5-S1")
    assert panel.levels[0].category == "negative" and panel.levels[0].criteria
    assert panel.warnings == ("L5-S1: please check",)
