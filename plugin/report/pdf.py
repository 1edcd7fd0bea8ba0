"""The report document as a PDF (reportlab platypus), US Letter, every page headed with the
patient and the performed date and numbered "page n of N".

Every piece of text goes through `PdfFonts.markup` (escaped for Paragraph's mini-markup,
fallback fonts for missing glyphs). Output is deterministic (reportlab invariant mode; the
creation date is the report's issue time), so the same report always gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from plugin.report import document as doc
from plugin.report.figure_drawing import figure_drawing
from plugin.report.marks import MARK_STYLES, LevelMark
from plugin.report.pdf_fonts import PdfFonts, pdf_fonts
from plugin.report.pdf_pages import MARGIN, PageFrame, bookmark_headings, page_canvas

__all__ = ["render_pdf"]

_MARGIN = MARGIN
_FRAME_W = LETTER[0] - 2 * MARGIN
_INK = colors.HexColor("#1a1a1a")
_MUTED = colors.HexColor("#555555")
_RULE = colors.HexColor("#b8b8b8")
_HEAD_BG = colors.HexColor("#eef0f3")
_CONCLUSION_BG = colors.HexColor("#f3f6fa")
_CONCLUSION_EDGE = colors.HexColor("#0b5394")
_TONE_HEX = {
    **{doc.Tone(mark.value): style.colour for mark, style in MARK_STYLES.items()},
    doc.Tone.MET: MARK_STYLES[LevelMark.CONTROL].colour,
    doc.Tone.FAILED: MARK_STYLES[LevelMark.POSITIVE].colour,
    doc.Tone.NOT_RECORDED: "#555555",
}


class _Styles:
    def __init__(self, fonts: PdfFonts) -> None:
        regular, bold = fonts.regular, fonts.bold

        def style(name: str, **kw: Any) -> ParagraphStyle:
            base: dict[str, Any] = {
                "fontName": regular,
                "fontSize": 9,
                "leading": 12,
                "textColor": _INK,
            }
            base.update(kw)
            return ParagraphStyle(name, **base)

        self.title = style("title", fontName=bold, fontSize=16, leading=20)
        self.subtitle = style("subtitle", fontSize=10, leading=13, textColor=_MUTED)
        self.h2 = style(
            "h2",
            fontName=bold,
            fontSize=12,
            leading=15,
            spaceBefore=10,
            spaceAfter=4,
            keepWithNext=1,
        )
        self.h3 = style(
            "h3",
            fontName=bold,
            fontSize=10,
            leading=13,
            spaceBefore=8,
            spaceAfter=3,
            keepWithNext=1,
        )
        self.label = style("label", fontName=bold, spaceBefore=4, spaceAfter=1, keepWithNext=1)
        self.body = style("body", spaceAfter=3)
        self.emphasis = style("emphasis", fontName=bold, fontSize=10, leading=13)
        self.bullet = style("bullet", leftIndent=12, bulletIndent=2, spaceAfter=2)
        self.cell = style("cell", fontSize=8, leading=10)
        self.cell_bold = style("cell_bold", fontName=bold, fontSize=8, leading=10)
        self.head = style("head", fontName=bold, fontSize=7.5, leading=9)
        self.cell_r = style("cell_r", fontSize=8, leading=10, alignment=TA_RIGHT)
        self.head_r = style("head_r", fontName=bold, fontSize=7.5, leading=9, alignment=TA_RIGHT)
        self.small = style("small", fontSize=7.5, leading=9.5, textColor=_MUTED, spaceBefore=2)
        self.caption = style("caption", fontSize=7.5, leading=9.5, textColor=_MUTED)
        self.page = style("page", fontSize=7.5, leading=9, textColor=_MUTED)
        self.page_right = style(
            "page_right", fontSize=7.5, leading=9, textColor=_MUTED, alignment=TA_RIGHT
        )


@cache
def _styles(fonts: PdfFonts) -> _Styles:
    return _Styles(fonts)


class _Builder:
    """Turns document blocks into flowables."""

    def __init__(self, fonts: PdfFonts) -> None:
        self.fonts = fonts
        self.s = _styles(fonts)

    def p(self, text: str, style: ParagraphStyle, tone: doc.Tone | None = None) -> Paragraph:
        markup = self.fonts.markup(text)
        if tone is not None:
            markup = f'<font color="{_TONE_HEX[tone]}">{markup}</font>'
        return Paragraph(markup, style)

    def heading(self, text: str, style: ParagraphStyle, key: str, level: int) -> Paragraph:
        paragraph = self.p(text, style)
        paragraph.outline = (key, text, level)  # read by bookmark_headings
        return paragraph

    def fields(self, block: doc.FieldList) -> list[Flowable]:
        rows = [
            [self.p(f.label, self.s.cell_bold), self.p(f.value, self.s.cell, f.tone)]
            for f in block.fields
        ]
        table = Table(rows, colWidths=[1.55 * inch, _FRAME_W - 1.55 * inch], hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ]
            )
        )
        return [*self._label(block.label), table, Spacer(0, 4)]

    def _label(self, label: str | None) -> list[Flowable]:
        return [self.p(label, self.s.label)] if label else []

    def prose(self, block: doc.Prose) -> list[Flowable]:
        if block.emphasis:
            content = [self.p(text, self.s.emphasis) for text in block.paragraphs]
            box = Table([[content]], colWidths=[_FRAME_W], hAlign="LEFT")
            box.setStyle(
                TableStyle(
                    [
                        ("BACKGROUND", (0, 0), (-1, -1), _CONCLUSION_BG),
                        ("LINEBEFORE", (0, 0), (0, -1), 3, _CONCLUSION_EDGE),
                        ("TOPPADDING", (0, 0), (-1, -1), 5),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                        ("LEFTPADDING", (0, 0), (-1, -1), 8),
                    ]
                )
            )
            return [*self._label(block.label), box]
        return [*self._label(block.label), *(self.p(t, self.s.body) for t in block.paragraphs)]

    def bullets(self, block: doc.BulletList) -> list[Flowable]:
        items = [
            Paragraph(self.fonts.markup(item), self.s.bullet, bulletText="•")
            for item in block.items
        ]
        return [*self._label(block.label), *items]

    def _widths(self, table: doc.Table) -> list[float]:
        """Column widths: every column at least its longest word, free-text ("wide") columns
        sharing the spare width, headers unwrapped where there is room."""
        size, pad = 8.0, 9.0

        def width(text: str) -> float:
            return float(stringWidth(text, self.fonts.bold, size)) + pad

        full, natural, minimum = [], [], []
        for i, column in enumerate(table.columns):
            values = [row[i].text for row in table.rows]
            words = [w for t in [column.heading, *values] for w in t.split()] or [""]
            minimum.append(max(width(w) for w in words))
            natural.append(max([minimum[-1], *(width(v) for v in values)]))
            full.append(max(natural[-1], width(column.heading)))
        wide = [i for i, c in enumerate(table.columns) if c.wide]
        widths = [
            natural[i] if c.wide else min(natural[i], max(minimum[i], _FRAME_W * 0.3))
            for i, c in enumerate(table.columns)
        ]
        spare = _FRAME_W - sum(widths[i] for i in range(len(widths)) if i not in wide)
        if wide:  # shared equally, but no column wider than its longest value
            share = spare / len(wide)
            short = [i for i in wide if natural[i] < share]
            rest = [i for i in wide if i not in short]
            for i in short:
                widths[i] = natural[i]
            for i in rest:
                widths[i] = max((spare - sum(natural[j] for j in short)) / len(rest), minimum[i])
        else:
            grow = [full[i] - widths[i] for i in range(len(widths))]
            room = min(max(spare, 0.0), sum(grow))
            if room > 0:
                widths = [w + room * g / sum(grow) for w, g in zip(widths, grow, strict=True)]
        excess = sum(widths) - _FRAME_W
        if excess > 0:  # shrink towards each column's longest word
            slack = [w - m for w, m in zip(widths, minimum, strict=True)]
            total_slack = sum(s for s in slack if s > 0)
            if total_slack > 0:
                widths = [
                    w - min(excess, total_slack) * max(sl, 0.0) / total_slack
                    for w, sl in zip(widths, slack, strict=True)
                ]
        return widths

    def table(self, block: doc.Table) -> list[Flowable]:
        header = [
            self.p(c.heading, self.s.head_r if c.numeric else self.s.head) for c in block.columns
        ]
        body = [
            [self._cell(cell, block.columns[i], first=i == 0) for i, cell in enumerate(row)]
            for row in block.rows
        ]
        table = Table([header, *body], colWidths=self._widths(block), repeatRows=1, hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BACKGROUND", (0, 0), (-1, 0), _HEAD_BG),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.8, _INK),
                    ("LINEBELOW", (0, 1), (-1, -1), 0.3, _RULE),
                    ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                    ("LEFTPADDING", (0, 0), (-1, -1), 3),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ]
            )
        )
        caption = self.p(block.caption, self.s.label)
        notes = [self.p(note, self.s.small) for note in block.notes]
        return [caption, table, *notes, Spacer(0, 4)]

    def _cell(self, cell: doc.Cell, column: doc.Column, *, first: bool) -> Paragraph:
        if column.numeric:
            style = self.s.cell_r
        elif (first and not column.wide) or cell.tone is not None:
            style = self.s.cell_bold
        else:
            style = self.s.cell
        return self.p(cell.text, style, cell.tone)

    def drawing(self, figure: doc.FigureBlock, width: float) -> Drawing:
        drawing = figure_drawing(figure.figure, font=self.fonts.regular, bold_font=self.fonts.bold)
        if drawing.width > width:
            factor = width / drawing.width
            drawing.scale(factor, factor)
            drawing.width, drawing.height = drawing.width * factor, drawing.height * factor
        return drawing

    def figure(self, block: doc.FigureBlock) -> list[Flowable]:
        return [
            KeepTogether([self.drawing(block, _FRAME_W), self.p(block.caption, self.s.caption)])
        ]

    def figure_row(self, block: doc.FigureRow) -> list[Flowable]:
        per_row = 2
        cell_w = _FRAME_W / per_row
        rows: list[list[Any]] = []
        for start in range(0, len(block.figures), per_row):
            chunk = block.figures[start : start + per_row]
            cells: list[Any] = [
                [self.drawing(f, cell_w - 8), self.p(f.caption, self.s.caption)] for f in chunk
            ]
            rows.append(cells + [""] * (per_row - len(cells)))
        table = Table(rows, colWidths=[cell_w] * per_row, hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
                ]
            )
        )
        return [table]

    def block(self, block: doc.Block) -> list[Flowable]:
        if isinstance(block, doc.FieldList):
            return self.fields(block)
        if isinstance(block, doc.Prose):
            return self.prose(block)
        if isinstance(block, doc.BulletList):
            return self.bullets(block)
        if isinstance(block, doc.Table):
            return self.table(block)
        if isinstance(block, doc.FigureBlock):
            return self.figure(block)
        return self.figure_row(block)

    def section(self, section: doc.Section, level: int = 0) -> list[Flowable]:
        style = self.s.h2 if level == 0 else self.s.h3
        if section.tone is not None:
            style = ParagraphStyle(
                f"{style.name}-{section.tone}",
                parent=style,
                textColor=colors.HexColor(_TONE_HEX[section.tone]),
            )
        title = self.heading(section.title, style, section.id, level)
        flowables: list[Flowable] = []
        for index, block in enumerate(section.blocks):
            parts = self.block(block)
            if index == 0:  # a heading never ends a page alone
                parts = [KeepTogether([title, *parts])]
            flowables.extend(parts)
        if not section.blocks:
            flowables.append(title)
        for sub in section.subsections:
            flowables.extend(self.section(sub, level + 1))
        return flowables

    def story(self, report: doc.ReportDocument) -> list[Flowable]:
        header = self._header_table(report.header)
        story: list[Flowable] = [
            self.p(report.title, self.s.title),
            self.p(report.subtitle, self.s.subtitle),
            Spacer(0, 6),
            header,
            Spacer(0, 6),
            *self.prose(doc.Prose((report.conclusion,), label="Conclusion", emphasis=True)),
        ]
        for section in report.sections:
            story.extend(self.section(section))
        return story

    def _header_table(self, header: doc.FieldList) -> Table:
        label_w, value_w = 0.95 * inch, _FRAME_W / 2 - 0.95 * inch
        cells = [
            [self.p(f.label, self.s.cell_bold), self.p(f.value, self.s.cell)] for f in header.fields
        ]
        rows = [
            cells[i] + (cells[i + 1] if i + 1 < len(cells) else ["", ""])
            for i in range(0, len(cells), 2)
        ]
        table = Table(rows, colWidths=[label_w, value_w, label_w, value_w], hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BOX", (0, 0), (-1, -1), 0.6, _RULE),
                    ("LINEBELOW", (0, 0), (-1, -2), 0.3, _RULE),
                    ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ]
            )
        )
        return table


def render_pdf(
    report: doc.ReportDocument, *, issued: datetime, fonts: PdfFonts | None = None
) -> bytes:
    """The PDF bytes of a report. `issued` becomes the PDF creation date; `fonts` defaults to
    the installed report fonts (`pdf_fonts`)."""
    fonts = fonts or pdf_fonts()
    builder = _Builder(fonts)
    buffer = io.BytesIO()
    keywords: Sequence[str] = ["discography", "discogram report"]
    if fonts.note:
        keywords = [*keywords, fonts.note]
    template = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN + 10,
        bottomMargin=_MARGIN + 8,
        title=report.title,
        author=report.author,
        subject=report.subject,
        creator="discography-plugin",
        keywords=list(keywords),
        lang=report.language,
        invariant=1,
        initialFontName=fonts.regular,
    )
    template.afterFlowable = bookmark_headings(lambda: template.canv)
    frame = PageFrame(
        identity=builder.p(report.identity, builder.s.page),
        title=builder.p(report.title, builder.s.page_right),
        footer=builder.p(f"Issued {report.issued}. {report.footer_note}", builder.s.page),
        page_number=lambda n, total: builder.p(f"Page {n} of {total}", builder.s.page_right),
        created=issued,
    )
    template.build(builder.story(report), canvasmaker=page_canvas(frame))
    return buffer.getvalue()
