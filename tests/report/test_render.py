"""End to end: one study, three renderings that say the same thing."""

from __future__ import annotations

import io
import re
import unicodedata
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader

from plugin.errors import InputProblemError
from plugin.interpretation import interpret_study
from plugin.interpretation.results import LevelCategory
from plugin.report.contents import build_report_document
from plugin.report.document import Table
from plugin.report.render import render_report
from plugin.report.rendered import RenderedReport
from plugin.study.model import Study
from plugin.study.validation import parse_study
from tests.report.builders import ISSUED, example_data, interpretation, level_data, result, study

HOSTILE = "<script>alert(1)</script> \"quoted\" 'single' & ampersand"
NON_LATIN = "腰痛 — боль в пояснице — ألم"


def _flat(text: str) -> str:
    """Whitespace-normalised, compatibility-normalised text (PDF extraction gives Arabic
    presentation forms, which NFKC maps back to letters)."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(scope="module")
def example() -> tuple[Study, RenderedReport]:
    validated = parse_study(example_data())
    rendered = render_report(
        validated.study,
        interpret_study(validated.study),
        issued=ISSUED,
        candidacy_summary="Candidate: every indication criterion met.",
        warnings=validated.warnings,
    )
    return validated.study, rendered


def test_example_renders_all_three_and_writes_nothing_patient_specific_in_metadata(
    example: tuple[Study, RenderedReport],
) -> None:
    _, rendered = example
    assert rendered.html.startswith("<!DOCTYPE html>")
    assert rendered.pdf.startswith(b"%PDF-")
    assert rendered.text.startswith("PROVOCATIVE DISCOGRAPHY REPORT")
    metadata = PdfReader(io.BytesIO(rendered.pdf)).metadata
    assert metadata is not None
    assert metadata.author == "Dr. Example Spine (fictional)"
    for value in (metadata.title, metadata.subject):
        assert value and "Example, Lumbar" not in value and "Patient/" not in value


def test_engine_result_reaches_every_rendering(example: tuple[Study, RenderedReport]) -> None:
    study_, rendered = example
    interp = interpret_study(study_)
    pdf_text = _flat(_pdf_text(rendered.pdf))
    text = _flat(rendered.text)
    html = _flat(_html_text(rendered.html))
    # L4-L5: onset 18 psi − opening 10 psi
    l4 = interp.result_for("L4-L5")
    assert l4 is not None and l4.delta_p_psi == 8
    for rendering in (pdf_text, text, html):
        assert _flat(interp.conclusion.text) in rendering
        assert "L4-L5 Suspected 3 Completed 10 18 40 8 1 2" in rendering
        for rs in interp.rule_sets:
            assert rs.id in rendering and rs.version in rendering


def _html_text(html: str) -> str:
    class Collector(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []
            self.skip = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in ("style", "title", "desc"):
                self.skip += 1

        def handle_endtag(self, tag: str) -> None:
            if tag in ("style", "title", "desc"):
                self.skip -= 1

        def handle_data(self, data: str) -> None:
            if not self.skip:
                self.parts.append(data)

    collector = Collector()
    collector.feed(html)
    return " ".join(collector.parts)


def test_every_table_row_reads_the_same_in_html_text_and_pdf(
    example: tuple[Study, RenderedReport],
) -> None:
    study_, rendered = example
    document = build_report_document(study_, interpret_study(study_), issued=ISSUED)
    renderings = {
        "html": _flat(_html_text(rendered.html)),
        "text": _flat(rendered.text),
        "pdf": _flat(_pdf_text(rendered.pdf)),
    }
    checked = 0
    for section in document.sections:
        for block in section.blocks:
            if not isinstance(block, Table) or block.caption != "Injection and manometry":
                continue
            for row in block.rows:
                line = _flat(" ".join(cell.text for cell in row))
                for name, rendering in renderings.items():
                    assert line in rendering, (name, line)
                checked += 1
    assert checked == len(study_.levels)


def test_categories_and_conclusion_agree_across_renderings() -> None:
    s = study(
        [
            level_data("L3-L4", role="control", order=1),
            level_data(
                "L4-L5",
                order=2,
                opening_pressure_psi=10.0,
                onset_pressure_psi=31.5,
                peak_pressure_psi=50.0,
                onset_volume_ml=1.25,
                total_volume_ml=2.0,
                pain_intensity=9,
                pain_response="concordant",
            ),
            level_data("L5-S1", order=3, technical_result="not-entered"),
        ]
    )
    interp = interpretation(
        result("L3-L4", LevelCategory.NEGATIVE, role="control"),
        result("L4-L5", LevelCategory.PROBABLE, delta_p=21.5, controls=("L3-L4",)),
        result("L5-S1", LevelCategory.NOT_ASSESSABLE),
        text="Hand-written conclusion: L4-L5 probable.",
    )
    rendered = render_report(s, interp, issued=ISSUED)
    pdf_text = _flat(_pdf_text(rendered.pdf))
    for rendering in (pdf_text, _flat(rendered.text), _flat(_html_text(rendered.html))):
        assert "Hand-written conclusion: L4-L5 probable." in rendering
        assert "Probable discogenic pain" in rendering
        assert "Not assessable" in rendering
        assert "ΔP 21.5 psi" in rendering
        assert "test-rules version 9.8.7" in rendering


def _hostile_report() -> RenderedReport:
    data = example_data()
    data["indication"]["text"] = f"{HOSTILE} {NON_LATIN}"
    data["levels"][1]["pain_location"] = NON_LATIN
    data["levels"][0]["comment"] = HOSTILE
    data["post_discogram_ct"] = f"CT: {HOSTILE}"
    data["patient"]["display"] = "O'Brien & <Sons> 李"
    validated = parse_study(data)
    return render_report(
        validated.study,
        interpret_study(validated.study),
        issued=ISSUED,
        candidacy_summary=f"Candidacy: {HOSTILE}",
    )


@pytest.fixture(scope="module")
def hostile() -> RenderedReport:
    return _hostile_report()


def test_free_text_is_escaped_in_html(hostile: RenderedReport) -> None:
    assert "<script" not in hostile.html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile.html
    assert "&lt;Sons&gt;" in hostile.html
    assert "<Sons>" not in hostile.html
    # the text the reader sees is the text that was written
    assert HOSTILE in _html_text(hostile.html)
    assert NON_LATIN in _html_text(hostile.html)


def test_free_text_is_literal_in_plain_text(hostile: RenderedReport) -> None:
    assert HOSTILE in _flat(hostile.text)
    assert NON_LATIN in hostile.text
    assert "O'Brien & <Sons> 李" in hostile.text


def test_free_text_and_non_latin_survive_pdf_text_extraction(hostile: RenderedReport) -> None:
    text = _flat(_pdf_text(hostile.pdf))
    assert _flat(HOSTILE) in text
    assert _flat(NON_LATIN) in text
    assert "O'Brien & <Sons> 李" in text


def test_same_input_gives_identical_pdf_bytes() -> None:
    first, second = _hostile_report(), _hostile_report()
    assert first.pdf == second.pdf
    assert first.html == second.html
    assert first.text == second.text


def test_a_different_issue_time_changes_the_pdf_creation_date(
    example: tuple[Study, RenderedReport],
) -> None:
    study_, rendered = example
    later = render_report(study_, interpret_study(study_), issued=ISSUED.replace(hour=12))
    dates = [
        PdfReader(io.BytesIO(pdf)).metadata["/CreationDate"]  # type: ignore[index]
        for pdf in (rendered.pdf, later.pdf)
    ]
    assert dates == ["D:20261120110500-05'00'", "D:20261120120500-05'00'"]


def test_missing_values_read_as_a_dash_never_zero() -> None:
    s = study(
        [
            level_data(
                "L4-L5",
                order=1,
                pain_intensity=None,
                pain_response=None,
                technical_result="aborted",
                abort_reason="Vasovagal episode",
            )
        ]
    )
    interp = interpretation(result("L4-L5", LevelCategory.NOT_ASSESSABLE), valid_control=False)
    rendered = render_report(s, interp, issued=ISSUED)
    row = "L4-L5 Suspected 1 Aborted — — — — — —"
    assert row in _flat(rendered.text)
    assert row in _flat(_pdf_text(rendered.pdf))
    assert row in _flat(_html_text(rendered.html))
    assert re.search(r"L4-L5\s+—\s+—\s+—", rendered.text)  # intensity, response, location
    assert "Vasovagal episode" in rendered.text


def test_mismatched_interpretation_is_a_clear_input_problem() -> None:
    s = study([level_data("L4-L5")])
    interp = interpretation(result("L3-L4", LevelCategory.NEGATIVE))
    with pytest.raises(InputProblemError) as caught:
        render_report(s, interp, issued=ISSUED)
    rules = {p.rule for p in caught.value.problems}
    assert rules == {"level-not-interpreted", "level-not-injected"}
    assert any("L4-L5" in p.message for p in caught.value.problems)


def test_cervical_study_through_the_engine_marks_every_level() -> None:
    validated = parse_study(
        {
            "levels": [
                level_data("C4-C5", role="control", order=1),
                level_data(
                    "C5-C6",
                    order=2,
                    opening_pressure_psi=15.0,
                    onset_pressure_psi=30.0,
                    peak_pressure_psi=60.0,
                    onset_volume_ml=0.2,
                    total_volume_ml=0.4,
                    pain_intensity=8,
                    pain_response="concordant",
                    dallas_grade=4,
                ),
                level_data(
                    "C6-C7",
                    order=3,
                    technical_result="not-entered",
                    pain_intensity=None,
                    pain_response=None,
                ),
            ]
        }
    )
    interp = interpret_study(validated.study)
    rendered = render_report(validated.study, interp, issued=ISSUED)
    expected = {
        r.level: "disc-not-assessable"
        if r.category is LevelCategory.NOT_ASSESSABLE
        else ("disc-positive" if r.positive else None)
        for r in interp.levels
    }
    assert expected["C5-C6"] == "disc-positive"
    assert expected["C6-C7"] == "disc-not-assessable"
    for level, css in expected.items():
        if css:
            assert f'class="disc {css}" data-level="{level}"' in rendered.html
    assert 'class="disc disc-control" data-level="C4-C5"' in rendered.html
    assert "C6-C7 Suspected 3 Not entered — — — — — —" in _flat(rendered.text)
    assert "Pressure–volume chart of C5-C6" in rendered.html
    assert "Pressure–volume chart of C4-C5" not in rendered.html  # no pressures recorded
