"""The report of a discography study in its three renderings — HTML, PDF and plain text —
all laid out from one report document, so they cannot disagree."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from plugin.errors import Problem
from plugin.interpretation.results import StudyInterpretation
from plugin.report.contents import build_report_document
from plugin.report.html import render_html
from plugin.report.pdf import render_pdf
from plugin.report.plain_text import render_text
from plugin.report.rendered import RenderedReport
from plugin.study.model import Study

__all__ = ["render_report"]


def render_report(
    study: Study,
    interpretation: StudyInterpretation,
    *,
    issued: datetime,
    candidacy_summary: str | None = None,
    warnings: Sequence[Problem] = (),
) -> RenderedReport:
    """Render a study's report.

    `issued` (with a time zone) is the report's issue time and the PDF's creation date, so the
    same inputs always give the same bytes. `candidacy_summary` (the candidacy assessment in
    words) goes under Indication; `warnings` (from `plugin.study.validation`) get their own
    section. Raises `InputProblemError` when `issued` has no time zone or the interpretation
    does not describe the study's levels.
    """
    report = build_report_document(
        study,
        interpretation,
        issued=issued,
        candidacy_summary=candidacy_summary,
        warnings=warnings,
    )
    return RenderedReport(
        html=render_html(report),
        pdf=render_pdf(report, issued=issued),
        text=render_text(report),
    )
