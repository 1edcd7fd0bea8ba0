import base64

import pytest

from plugin.fhir_mapping.attachments import (
    html_attachment,
    html_language,
    pdf_attachment,
    text_attachment,
)
from tests.fhir_mapping.examples import rendered_report


@pytest.mark.parametrize(
    ("html", "language"),
    [
        ('<!DOCTYPE html><html lang="en-US"><body></body></html>', "en-US"),
        ("<html class='x' lang='fr'>", "fr"),
        ("<HTML LANG=de>", "de"),
        ("<html><body lang='en'>", None),
        ('<html lang="not a tag">', None),
        ("no markup", None),
    ],
)
def test_html_language(html: str, language: str | None) -> None:
    assert html_language(html) == language


def test_attachments_hold_the_renderings_byte_for_byte() -> None:
    report = rendered_report("es")
    html = html_attachment(report, title="T").model_dump(mode="json", exclude_none=True)
    pdf = pdf_attachment(report, title="T").model_dump(mode="json", exclude_none=True)
    text = text_attachment(report, title="T").model_dump(mode="json", exclude_none=True)
    assert html["contentType"] == "text/html"
    assert html["language"] == "es"
    assert base64.b64decode(html["data"]).decode("utf-8") == report.html
    assert pdf["contentType"] == "application/pdf"
    assert "language" not in pdf
    assert base64.b64decode(pdf["data"]) == report.pdf
    assert text["contentType"] == "text/plain; charset=utf-8"
    assert base64.b64decode(text["data"]).decode("utf-8") == report.text
    assert {html["title"], pdf["title"], text["title"]} == {"T"}
