from __future__ import annotations

import io

from pypdf import PdfReader

from plugin.interpretation.results import LevelCategory
from plugin.report.contents import build_report_document
from plugin.report.pdf import render_pdf
from tests.report.builders import ISSUED, interpretation, level_data, result, study


def _pdf(location: str = "Low back") -> bytes:
    s = study(
        [level_data(f"L{i}-L{i + 1}", pain_location=location, order=i) for i in range(1, 5)]
        + [level_data("L5-S1", order=5)],
        patient={"reference": "Patient/p9", "display": "Roe, Richard"},
        performer={"reference": "Practitioner/d1", "display": "Dr. Ω Ærø"},
    )
    interp = interpretation(
        *(result(lv.level, LevelCategory.NEGATIVE) for lv in s.levels),
        text="No discogenic level identified.",
    )
    return render_pdf(build_report_document(s, interp, issued=ISSUED), issued=ISSUED)


def test_every_page_names_the_patient_and_its_number() -> None:
    reader = PdfReader(io.BytesIO(_pdf()))
    pages = reader.pages
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        text = page.extract_text()
        assert "Roe, Richard · performed —" in text
        assert f"Page {number} of {len(pages)}" in text


def test_metadata_has_title_author_subject_and_no_patient() -> None:
    reader = PdfReader(io.BytesIO(_pdf()))
    meta = reader.metadata
    assert meta is not None
    assert meta.title == "Provocative discography report"
    assert meta.author == "Dr. Ω Ærø"
    assert meta.subject == (
        "Lumbar provocative discography of L1-L2, L2-L3, L3-L4, L4-L5, L5-S1: "
        "No discogenic level identified"
    )
    assert all("Roe" not in str(value) for value in meta.values())
    assert str(reader.root_object["/Lang"]) == "en"


def test_sections_are_bookmarked() -> None:
    reader = PdfReader(io.BytesIO(_pdf()))
    titles = [str(item["/Title"]) for item in reader.outline if isinstance(item, dict)]
    assert titles[:3] == ["Indication", "Consent and safety checks", "Technique"]
    assert "Impression" in titles


def test_output_is_deterministic_and_depends_on_content() -> None:
    assert _pdf() == _pdf()
    assert _pdf("Low back") != _pdf("Left buttock")


def test_very_long_free_text_is_laid_out_not_refused() -> None:
    words = " ".join(["verylongword"] * 160)[:2000]
    unbroken = "x" * 2000
    s = study(
        [
            level_data("L4-L5", pain_location=words, comment=unbroken),
            level_data("L5-S1", pain_location=unbroken),
        ],
        patient={"reference": "Patient/p9", "display": words},
        indication=words,
        post_discogram_ct=unbroken,
    )
    interp = interpretation(
        result("L4-L5", LevelCategory.NEGATIVE), result("L5-S1", LevelCategory.NEGATIVE)
    )
    document = build_report_document(s, interp, issued=ISSUED)
    assert len(document.identity) < 120  # the running header stays one line
    reader = PdfReader(io.BytesIO(render_pdf(document, issued=ISSUED)))
    assert 2 <= len(reader.pages) <= 20
