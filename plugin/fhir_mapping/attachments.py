"""The rendered report as FHIR Attachments (inline, base64), one per rendering."""

from __future__ import annotations

import base64
import re

from fhir.resources.R4B.attachment import Attachment

from plugin.report.rendered import RenderedReport

__all__ = [
    "HTML_CONTENT_TYPE",
    "PDF_CONTENT_TYPE",
    "TEXT_CONTENT_TYPE",
    "html_attachment",
    "html_language",
    "pdf_attachment",
    "text_attachment",
]

HTML_CONTENT_TYPE = "text/html"
PDF_CONTENT_TYPE = "application/pdf"
# US Core "Writing Clinical Notes": servers SHALL accept exactly this spelling.
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"

# The document's own language (<html lang="en-US">), a BCP 47 tag, quoted or not.
_TAG = r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*"
_HTML_LANG = re.compile(
    rf"<html\b[^>]*?\slang\s*=\s*"
    rf"(?:\"(?P<double>{_TAG})\"|'(?P<single>{_TAG})'|(?P<bare>{_TAG})(?=[\s/>]))",
    re.IGNORECASE,
)


def html_language(html: str) -> str | None:
    match = _HTML_LANG.search(html)
    if match is None:
        return None
    return match["double"] or match["single"] or match["bare"]


def html_attachment(report: RenderedReport, *, title: str) -> Attachment:
    return Attachment(
        contentType=HTML_CONTENT_TYPE,
        language=html_language(report.html),
        data=_base64(report.html.encode("utf-8")),
        title=title,
    )


def pdf_attachment(report: RenderedReport, *, title: str) -> Attachment:
    return Attachment(contentType=PDF_CONTENT_TYPE, data=_base64(report.pdf), title=title)


def text_attachment(report: RenderedReport, *, title: str) -> Attachment:
    return Attachment(
        contentType=TEXT_CONTENT_TYPE, data=_base64(report.text.encode("utf-8")), title=title
    )


def _base64(content: bytes) -> str:
    return base64.b64encode(content).decode("ascii")
