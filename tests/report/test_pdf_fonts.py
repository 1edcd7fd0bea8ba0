from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader

from plugin.interpretation.results import LevelCategory
from plugin.report.contents import build_report_document
from plugin.report.pdf import render_pdf
from plugin.report.pdf_fonts import FONT_DIRECTORIES, load_pdf_fonts, pdf_fonts
from tests.report.builders import ISSUED, interpretation, level_data, result, study

DEJAVU = FONT_DIRECTORIES[0] / "dejavu" / "DejaVuSans.ttf"


def test_installed_fonts_are_dejavu_and_registered_once() -> None:
    fonts = pdf_fonts()
    assert (fonts.regular, fonts.bold, fonts.note) == ("DejaVuSans", "DejaVuSans-Bold", None)
    assert pdf_fonts() is fonts


def test_markup_escapes_paragraph_markup() -> None:
    markup = pdf_fonts().markup('<b>bold?</b> & "q" <font name="x">')
    assert markup == "&lt;b&gt;bold?&lt;/b&gt; &amp; &quot;q&quot; &lt;font name=&quot;x&quot;&gt;"


def test_characters_dejavu_lacks_get_a_font_that_has_them() -> None:
    fonts = pdf_fonts()
    assert fonts.font_for("б") is None and fonts.font_for("ل") is None
    han = fonts.font_for("腰")
    assert han is not None
    assert f'<font name="{han}">腰痛</font>' in fonts.markup("Pain 腰痛 here")
    assert fonts.font_for("한") != han  # Hangul is not drawn with a Chinese font


def test_without_dejavu_the_pdf_uses_helvetica_and_says_so(tmp_path: Path) -> None:
    fonts = load_pdf_fonts([tmp_path])
    assert (fonts.regular, fonts.bold) == ("Helvetica", "Helvetica-Bold")
    assert fonts.note is not None and "Helvetica" in fonts.note
    s = study([level_data("L4-L5", pain_location="боль 腰痛 café")])
    document = build_report_document(
        s, interpretation(result("L4-L5", LevelCategory.NEGATIVE)), issued=ISSUED
    )
    pdf = render_pdf(document, issued=ISSUED, fonts=fonts)
    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert metadata is not None and fonts.note in str(metadata["/Keywords"])
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "café" in text and "腰痛" in text


def test_an_installed_fallback_font_is_used_for_what_the_main_font_lacks(tmp_path: Path) -> None:
    # A tree with only a "fallback" font (DejaVu standing in for Droid Sans Fallback).
    (tmp_path / "droid").mkdir()
    (tmp_path / "droid" / "DroidSansFallbackFull.ttf").symlink_to(DEJAVU)
    fonts = load_pdf_fonts([tmp_path])
    assert fonts.regular == "Helvetica"
    assert fonts.font_for("б") == "Fallback-DejaVuSans"
    assert fonts.font_for("e") is None
    assert fonts.markup("eб") == 'e<font name="Fallback-DejaVuSans">б</font>'
