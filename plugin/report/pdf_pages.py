"""The page frame of the PDF report: the running header (patient and date) and footer
(issue time, "page n of N") on every page, section bookmarks, and the creation date.

A clinical page must identify its patient on its own, so every page carries the identity line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph

__all__ = ["MARGIN", "PageFrame", "bookmark_headings", "page_canvas", "pdf_date"]

MARGIN = 0.6 * inch
_PAGE_W, _PAGE_H = LETTER
_FRAME_W = _PAGE_W - 2 * MARGIN
_RULE = HexColor("#b8b8b8")


@dataclass(frozen=True)
class PageFrame:
    identity: Paragraph  # top left: patient and performed date
    title: Paragraph  # top right
    footer: Paragraph  # bottom left
    page_number: Callable[[int, int], Paragraph]  # bottom right, from (page, total)
    created: datetime  # the PDF creation date (the report's issue time)


def pdf_date(moment: datetime) -> str:
    """A PDF date string, ``D:20261120110500-05'00'``."""
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds()) // 60 if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"D:{moment:%Y%m%d%H%M%S}{sign}{hours:02d}'{mins:02d}'"


def page_canvas(frame: PageFrame) -> Callable[..., Canvas]:
    """A canvas class for `SimpleDocTemplate.build(canvasmaker=…)` that draws `frame`."""
    created = pdf_date(frame.created)

    class _ReportCanvas(Canvas):  # type: ignore[misc]  # reportlab ships no type hints
        """Holds every page until the end so each can say "page n of N"."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # invariant mode would date every PDF 2000-01-01; the issue time is as stable
            self.setDateFormatter(lambda *_: created)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._decorate(number, total)
                super().showPage()
            super().save()

        def _decorate(self, number: int, total: int) -> None:
            top = _PAGE_H - MARGIN + 14
            for paragraph, x, width in (
                (frame.identity, MARGIN, _FRAME_W * 0.74),
                (frame.title, MARGIN + _FRAME_W * 0.74, _FRAME_W * 0.26),
            ):
                _, height = paragraph.wrap(width, 30)
                paragraph.drawOn(self, x, top - height + 9)
            self.setStrokeColor(_RULE)
            self.setLineWidth(0.5)
            self.line(MARGIN, top - 4, _PAGE_W - MARGIN, top - 4)
            bottom = MARGIN - 22
            self.line(MARGIN, bottom + 12, _PAGE_W - MARGIN, bottom + 12)
            _, height = frame.footer.wrap(_FRAME_W * 0.82, 40)
            frame.footer.drawOn(self, MARGIN, bottom + 9 - height)
            page = frame.page_number(number, total)
            page.wrap(_FRAME_W * 0.18, 20)
            page.drawOn(self, MARGIN + _FRAME_W * 0.82, bottom)

    return _ReportCanvas


def bookmark_headings(canvas_of: Callable[[], Canvas]) -> Callable[[Flowable], None]:
    """An `afterFlowable` hook: headings carrying ``outline = (key, title, level)`` become
    PDF bookmarks."""

    def after(flowable: Flowable) -> None:
        outline = getattr(flowable, "outline", None)
        if outline:
            key, title, level = outline
            canvas = canvas_of()
            canvas.bookmarkPage(key)
            canvas.addOutlineEntry(title, key, level=level)

    return after
