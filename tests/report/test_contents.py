from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from plugin.errors import InputProblemError, Problem
from plugin.interpretation import interpret_study
from plugin.interpretation.results import (
    LevelCategory,
    PressureSensitivity,
    StudyConclusionCode,
)
from plugin.report.contents import build_report_document
from plugin.report.document import (
    Block,
    BulletList,
    FieldList,
    FigureBlock,
    FigureRow,
    Prose,
    ReportDocument,
    Section,
    Table,
    Tone,
)
from plugin.report.plain_text import render_text
from plugin.study.validation import parse_study
from tests.report.builders import ISSUED, example_data, interpretation, level_data, result, study


def _section(document: ReportDocument, section_id: str) -> Section:
    return next(s for s in document.sections if s.id == section_id)


def _fields(block: Block) -> dict[str, str]:
    assert isinstance(block, FieldList)
    return {f.label: f.value for f in block.fields}


def _first(section: Section, kind: type[Any]) -> Any:
    return next(b for b in section.blocks if isinstance(b, kind))


def _three_levels(**study_fields: Any) -> ReportDocument:
    s = study(
        [
            level_data("L3-L4", role="control", order=2),
            level_data(
                "L4-L5",
                order=1,
                opening_pressure_psi=10.0,
                onset_pressure_psi=18.0,
                peak_pressure_psi=40.0,
                onset_volume_ml=1.0,
                total_volume_ml=2.0,
                pain_intensity=8,
                pain_response="concordant",
            ),
            level_data("L5-S1", order=3, pain_intensity=3, pain_response="discordant"),
        ],
        **study_fields,
    )
    interp = interpretation(
        result("L3-L4", LevelCategory.NEGATIVE, role="control"),
        result(
            "L4-L5",
            LevelCategory.HIGHLY_PROBABLE,
            delta_p=8.0,
            controls=("L3-L4",),
            sensitivity=PressureSensitivity.CHEMICAL,
        ),
        result("L5-S1", LevelCategory.NEGATIVE),
    )
    return build_report_document(s, interp, issued=ISSUED)


def test_sections_follow_the_clinical_order() -> None:
    document = _three_levels()
    assert [s.id for s in document.sections] == [
        "indication",
        "consent-safety",
        "technique",
        "levels",
        "pressure-volume",
        "post-discogram-ct",
        "impression",
        "complications",
        "criteria",
    ]


def test_header_names_patient_times_performer_and_encounter() -> None:
    document = _three_levels(
        patient={"reference": "Patient/p1", "display": "Doe, Jane"},
        performer="Practitioner/dr1",
        encounter="Encounter/e1",
        performed="2026-03-01T09:30:00+01:00",
        id="study-7",
    )
    header = _fields(document.header)
    assert header["Patient"] == "Doe, Jane (Patient/p1)"
    assert header["Performer"] == "Practitioner/dr1"
    assert header["Encounter"] == "Encounter/e1"
    assert header["Performed"] == "2026-03-01 09:30 UTC+01:00"
    assert header["Report issued"] == "2026-11-20 11:05 UTC-05:00"
    assert header["Study"] == "study-7"
    assert header["Levels injected"] == "L3-L4, L4-L5, L5-S1 (lumbar)"
    assert document.identity == "Doe, Jane · performed 2026-03-01 09:30 UTC+01:00"
    assert document.author == "Practitioner/dr1"
    assert "Doe" not in document.subject and "Doe" not in document.title


def test_what_the_study_does_not_record_is_said_to_be_not_recorded() -> None:
    document = _three_levels()
    header = _fields(document.header)
    assert header["Patient"] == header["Performer"] == header["Performed"] == "—"
    consent = _fields(_section(document, "consent-safety").blocks[0])
    assert consent["Informed consent"].startswith("—")
    assert "not recorded" in consent["Informed consent"]
    assert "not recorded" in consent["Pre-procedure safety review"]
    technique = _fields(_section(document, "technique").blocks[0])
    assert technique["Approach"] == technique["Blinding"] == "—"
    ct = _first(_section(document, "post-discogram-ct"), Prose)
    assert "not recorded" in ct.paragraphs[0]
    complications = _first(_section(document, "complications"), Prose)
    assert "not recorded" in complications.paragraphs[0]
    indication = _first(_section(document, "indication"), Prose)
    assert "not recorded" in indication.paragraphs[0]


@pytest.mark.parametrize(
    ("blinded", "sentence"),
    [
        (True, "The patient was not told which disc was injected."),
        (False, "Not blinded: the patient knew which disc was injected."),
    ],
)
def test_blinding_is_stated_in_words(blinded: bool, sentence: str) -> None:
    document = _three_levels(technique={"approach": "Right", "patient_blinded": blinded})
    technique = _fields(_section(document, "technique").blocks[0])
    assert technique["Blinding"] == sentence
    assert technique["Approach"] == "Right"
    assert technique["Injection order"] == "1. L4-L5 → 2. L3-L4 → 3. L5-S1"


def test_indication_carries_candidacy_criteria_and_summary() -> None:
    data = example_data()
    data["indication"]["criteria_met"] = ["Axial pain ≥ 3 months", "Failed conservative care"]
    validated = parse_study(data)
    s = validated.study
    interp = interpretation(
        *(result(lv.level, LevelCategory.NEGATIVE, role=lv.role.value) for lv in s.levels)
    )
    document = build_report_document(
        s, interp, issued=ISSUED, candidacy_summary="Candidate.\nNo safety action needed."
    )
    indication = _section(document, "indication")
    lists = {b.label: b.items for b in indication.blocks if isinstance(b, BulletList)}
    assert lists["Candidacy criteria met"] == ("Axial pain ≥ 3 months", "Failed conservative care")
    assert lists["Reasons in the chart"] == ("Condition/example-lumbar-lbp",)
    summary = next(b for b in indication.blocks if isinstance(b, Prose) and b.label)
    assert summary.paragraphs == ("Candidate.", "No safety action needed.")
    consent = _fields(_section(document, "consent-safety").blocks[0])
    assert (
        consent["Pre-procedure safety review"] == "See the candidacy assessment under Indication."
    )
    assert consent["Intradiscal antibiotic"] == "Cefazolin 1 mg/mL mixed with contrast"


def test_level_tables_hold_recorded_values_and_categories() -> None:
    document = _three_levels()
    tables = {b.caption: b for b in _section(document, "levels").blocks if isinstance(b, Table)}
    manometry = tables["Injection and manometry"]
    rows = {row[0].text: [c.text for c in row] for row in manometry.rows}
    assert [row[0].text for row in manometry.rows] == ["L3-L4", "L4-L5", "L5-S1"]
    assert rows["L4-L5"] == [
        "L4-L5",
        "Suspected",
        "1",
        "Completed",
        "10",
        "18",
        "40",
        "8",
        "1",
        "2",
    ]
    assert rows["L3-L4"][4:] == ["—"] * 6
    result_rows = {row[0].text: row for row in tables["Disc morphology and result"].rows}
    category = result_rows["L4-L5"][4]
    assert category.text == "Highly probable discogenic pain"
    assert category.tone is Tone.POSITIVE
    assert result_rows["L3-L4"][4].tone is Tone.CONTROL
    assert result_rows["L4-L5"][6].text == "positive (POS)"
    pain = {row[0].text: [c.text for c in row] for row in tables["Provoked pain"].rows}
    assert pain["L5-S1"] == ["L5-S1", "3/10", "Discordant", "—"]


def test_spine_diagram_and_charts_are_in_the_document() -> None:
    document = _three_levels()
    figure = _first(_section(document, "levels"), FigureBlock)
    assert figure.figure.id == "spine-diagram"
    charts = _section(document, "pressure-volume")
    row = _first(charts, FigureRow)
    assert [f.figure.id for f in row.figures] == ["pressure-chart-L4-L5"]
    missing = _first(charts, BulletList)
    assert missing.items == (
        "L3-L4: no pressures recorded (no manometry).",
        "L5-S1: no pressures recorded (no manometry).",
    )


def test_a_study_without_manometry_says_so_instead_of_charts() -> None:
    s = study([level_data("C5-C6", pain_intensity=8, pain_response="concordant")])
    document = build_report_document(
        s, interpretation(result("C5-C6", LevelCategory.INDETERMINATE)), issued=ISSUED
    )
    charts = _section(document, "pressure-volume")
    assert charts.blocks == (
        Prose(("No manometry was recorded in this study, so there is no chart.",)),
    )


def test_impression_gives_category_controls_and_rule_set_per_level() -> None:
    document = _three_levels()
    impression = _section(document, "impression")
    by_level = next(
        b for b in impression.blocks if isinstance(b, BulletList) and b.label == "By level"
    )
    assert by_level.items[1] == (
        "L4-L5: Highly probable discogenic pain (POS); ΔP 8 psi (chemical); valid control L3-L4; "
        "rule set test-rules version 9.8.7."
    )
    validity = next(
        b for b in impression.blocks if isinstance(b, Prose) and b.label == "Control validity"
    )
    assert validity.paragraphs == ("A valid negative control was obtained: L3-L4 for L4-L5.",)
    conclusion = next(b for b in impression.blocks if isinstance(b, Prose) and b.emphasis)
    assert conclusion.paragraphs == ("Conclusion sentence for the test study.",)
    rule_sets = next(
        b for b in impression.blocks if isinstance(b, BulletList) and b.label == "Rule sets applied"
    )
    assert rule_sets.items == ("Test rule set for reports — id test-rules, version 9.8.7",)


def test_without_a_valid_control_the_impression_says_no_level_can_be_positive() -> None:
    s = study([level_data("L4-L5", pain_intensity=8, pain_response="concordant")])
    interp = interpretation(
        result("L4-L5", LevelCategory.INDETERMINATE, reason="no-valid-control"),
        code=StudyConclusionCode.INDETERMINATE_NO_CONTROL,
        valid_control=False,
    )
    document = build_report_document(s, interp, issued=ISSUED)
    impression = _section(document, "impression")
    validity = next(
        b for b in impression.blocks if isinstance(b, Prose) and b.label == "Control validity"
    )
    assert validity.paragraphs[0].startswith("No valid negative control was obtained")
    assert "no valid control" in impression.blocks[0].items[0]  # type: ignore[union-attr]


def _control_validity(study_data: dict[str, Any]) -> str:
    s = parse_study(study_data).study
    document = build_report_document(s, interpret_study(s), issued=ISSUED)
    validity = next(
        b
        for b in _section(document, "impression").blocks
        if isinstance(b, Prose) and b.label == "Control validity"
    )
    return validity.paragraphs[0]


def test_without_concordant_pain_control_validity_does_not_blame_a_concordant_response() -> None:
    """Review F1: a painless control and a suspected disc not entered; no concordant response
    exists, so "a concordant response without a painless control" would be untrue."""
    text = _control_validity(
        {
            "levels": [
                level_data("L3-L4", role="control", order=1),
                {"level": "L4-L5", "order": 2, "technical_result": "not-entered"},
            ]
        }
    )
    assert "concordant response without" not in text
    assert text == (
        "Not applicable: no level gave concordant pain at high intensity, so there was no "
        "response for a negative control to validate."
    )


def test_with_no_injection_completed_control_validity_says_so() -> None:
    text = _control_validity(
        {"levels": [{"level": "L4-L5", "order": 1, "technical_result": "not-entered"}]}
    )
    assert text == "No injection was completed, so no level could serve as a control."


def test_criteria_section_explains_each_level() -> None:
    document = _three_levels()
    criteria = _section(document, "criteria")
    assert [s.id for s in criteria.subsections] == [
        "criteria-L3-L4",
        "criteria-L4-L5",
        "criteria-L5-S1",
    ]
    l4 = criteria.subsections[1]
    assert l4.title == "L4-L5 — Highly probable discogenic pain (POS)"
    assert l4.tone is Tone.POSITIVE
    table = _first(l4, Table)
    assert [[c.text for c in row] for row in table.rows] == [
        ["Pain intensity ≥ 7/10", "Met", "intensity criterion explained for L4-L5"],
        ["ΔP < 50 psi", "Not recorded", "pressure criterion explained for L4-L5"],
    ]
    assert [row[1].tone for row in table.rows] == [Tone.MET, Tone.NOT_RECORDED]
    fields = _fields(next(b for b in l4.blocks if isinstance(b, FieldList)))
    assert fields["Rule set"] == "Test rule set for reports (test-rules version 9.8.7)"
    assert fields["Valid controls"] == "L3-L4"


def test_warnings_name_the_level_not_the_json_path() -> None:
    s = study([level_data("L4-L5"), level_data("L5-S1")])
    interp = interpretation(
        result("L4-L5", LevelCategory.NEGATIVE), result("L5-S1", LevelCategory.NEGATIVE)
    )
    warnings = [
        Problem("levels[1].order", "order-missing", "the blinded injection order is not recorded"),
        Problem("levels", "no-control-level", "no level is marked as a control"),
    ]
    document = build_report_document(s, interp, issued=ISSUED, warnings=warnings)
    section = _section(document, "warnings")
    items = _first(section, BulletList).items
    assert items == (
        "L5-S1, injection order: the blinded injection order is not recorded",
        "levels: no level is marked as a control",
    )
    assert all("[" not in item for item in items)


def test_no_warnings_section_without_warnings() -> None:
    assert "warnings" not in [s.id for s in _three_levels().sections]


def test_complications_are_listed_in_words() -> None:
    document = _three_levels(complications=["vasovagal", "Transient leg numbness"])
    items = _first(_section(document, "complications"), BulletList).items
    assert items == ("Vasovagal reaction", "Transient leg numbness")


def test_issue_time_without_time_zone_is_refused() -> None:
    s = study([level_data("L4-L5")])
    with pytest.raises(InputProblemError) as caught:
        build_report_document(
            s, interpretation(result("L4-L5", LevelCategory.NEGATIVE)), issued=datetime(2026, 1, 1)
        )
    assert [(p.field, p.rule) for p in caught.value.problems] == [("issued", "timezone-required")]


def test_control_characters_do_not_reach_the_document() -> None:
    s = study([level_data("L4-L5", comment="line\x00one\x1b[31m\ttab")])
    document = build_report_document(
        s, interpretation(result("L4-L5", LevelCategory.NEGATIVE)), issued=ISSUED
    )
    l4 = _section(document, "criteria").subsections[0]
    fields = _fields(next(b for b in l4.blocks if isinstance(b, FieldList)))
    assert fields["Comment"] == "lineone[31m tab"


def test_a_study_indeterminate_for_missing_data_says_so_in_subject_and_conclusion() -> None:
    """Concordant 8/10 at L4-L5 without pressures beside a painless L3-L4: the report must not
    read as a negative study."""
    s = study(
        [
            level_data("L3-L4", role="control", order=1),
            level_data(
                "L4-L5", order=2, pain_intensity=8, pain_response="concordant", onset_volume_ml=1.0
            ),
        ]
    )
    document = build_report_document(s, interpret_study(s), issued=ISSUED)
    assert document.subject.endswith(": Study indeterminate: data not recorded")
    impression = _section(document, "impression")
    conclusion = next(b for b in impression.blocks if isinstance(b, Prose) and b.emphasis)
    assert conclusion.paragraphs == (
        "Study indeterminate: data not recorded. "
        "Could not be judged for missing data: L4-L5 (pressure not recorded).",
    )


def test_values_near_a_threshold_read_as_recorded_everywhere() -> None:
    """Review: ΔP 14.996 psi (definite, < 15) read "ΔP 15 psi" and onset volume 3.504 mL
    (fails ≤ 3.5) read "3.5": the table, chart, impression and criteria show the recorded value."""
    s = parse_study(
        {
            "levels": [
                level_data("L3-L4", role="control", order=1),
                level_data(
                    "L4-L5",
                    order=2,
                    opening_pressure_psi=10.0,
                    onset_pressure_psi=24.996,
                    peak_pressure_psi=40.0,
                    onset_volume_ml=1.0,
                    total_volume_ml=2.0,
                    pain_intensity=8,
                    pain_response="concordant",
                ),
                level_data(
                    "L5-S1",
                    order=3,
                    opening_pressure_psi=10.0,
                    onset_pressure_psi=15.0,
                    peak_pressure_psi=40.0,
                    onset_volume_ml=3.504,
                    total_volume_ml=4.0,
                    pain_intensity=8,
                    pain_response="concordant",
                ),
            ]
        }
    ).study
    interp = interpret_study(s)
    document = build_report_document(s, interp, issued=ISSUED)
    manometry = _first(_section(document, "levels"), Table)
    l4_l5 = next(row for row in manometry.rows if row[0].text == "L4-L5")
    assert [c.text for c in l4_l5[5:8]] == ["24.996", "40", "14.996"]
    l5_s1 = next(row for row in manometry.rows if row[0].text == "L5-S1")
    assert l5_s1[8].text == "3.504"
    by_level = next(
        b
        for b in _section(document, "impression").blocks
        if isinstance(b, BulletList) and b.label == "By level"
    )
    assert "ΔP 14.996 psi (chemical)" in by_level.items[1]
    text = render_text(document)
    assert "ΔP 15 psi" not in text
    assert "L4-L5 pressure–volume · ΔP 14.996 psi" in text  # the chart
    assert "ΔP 14.996 psi meets < 15 psi" in text  # the criteria table
    assert "Pain onset 15 psi at 3.504 mL" in text  # the chart's key
    assert "volume at pain onset 3.504 mL does not meet ≤ 3.5 mL" in text
