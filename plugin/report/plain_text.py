"""The report document as fixed-layout plain text (what an EHR clinical-note API accepts):
same sections and values as the HTML and PDF, tables in aligned columns for a monospaced
font, figures replaced by their text alternative. At most `WIDTH` columns wide.
"""

from __future__ import annotations

import unicodedata

from plugin.report import document as doc

__all__ = ["WIDTH", "render_text"]

WIDTH = 96
_GAP = "  "


def _char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _display_width(text: str) -> int:
    """Columns the text takes in a monospaced font (East Asian wide characters take two)."""
    if text.isascii():
        return len(text)
    return sum(_char_width(c) for c in text)


def _split_word(word: str, width: int) -> list[str]:
    pieces: list[str] = []
    current, used = "", 0
    for char in word:
        w = _char_width(char)
        if used + w > width and current:
            pieces.append(current)
            current, used = "", 0
        current += char
        used += w
    return [*pieces, current] if current else pieces


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` columns, broken at spaces (long words are split)."""
    width = max(width, 1)
    lines: list[str] = []
    line, used = "", 0
    for word in text.split():
        for piece in _split_word(word, width) if _display_width(word) > width else [word]:
            w = _display_width(piece)
            if line and used + 1 + w > width:
                lines.append(line)
                line, used = "", 0
            line, used = (f"{line} {piece}", used + 1 + w) if line else (piece, w)
    if line:
        lines.append(line)
    return lines or [""]


def _pad(text: str, width: int, *, right: bool = False) -> str:
    fill = " " * max(width - _display_width(text), 0)
    return fill + text if right else text + fill


def _indented(text: str, indent: str, first: str | None = None) -> list[str]:
    lines = _wrap(text, WIDTH - len(indent))
    lead = indent if first is None else first
    return [lead + lines[0], *(indent + line for line in lines[1:])]


def _fields(block: doc.FieldList) -> list[str]:
    label_w = min(max(_display_width(f.label) for f in block.fields) + 2, 30)
    out = _label(block.label)
    for f in block.fields:
        value_lines = _wrap(f.value, WIDTH - label_w)
        label_lines = _wrap(f.label, label_w - 2)
        for i in range(max(len(value_lines), len(label_lines))):
            label = label_lines[i] if i < len(label_lines) else ""
            value = value_lines[i] if i < len(value_lines) else ""
            out.append(_pad(label, label_w) + value)
    return out


def _label(label: str | None) -> list[str]:
    return [f"{label}:"] if label else []


def _prose(block: doc.Prose) -> list[str]:
    out = _label(block.label)
    indent = "  " if block.label else ""
    for paragraph in block.paragraphs:
        text = f">> {paragraph}" if block.emphasis else paragraph
        out += _indented(text, indent + ("   " if block.emphasis else ""), indent)
    return out


def _bullets(block: doc.BulletList) -> list[str]:
    out = _label(block.label)
    for item in block.items:
        out += _indented(item, "    ", "  - ")
    return out


def _column_widths(table: doc.Table) -> list[int]:
    """Widths that fit `WIDTH`: headings wrap before values do, values before words."""
    count = len(table.columns)
    available = WIDTH - len(_GAP) * (count - 1)
    natural, values_fit, minimum = [], [], []
    for i, column in enumerate(table.columns):
        values = [row[i].text for row in table.rows]
        words = [w for t in [column.heading, *values] for w in t.split()] or [""]
        minimum.append(min(max(_display_width(w) for w in words), 16))
        values_fit.append(max([minimum[-1], *(_display_width(v) for v in values)]))
        natural.append(max(values_fit[-1], _display_width(column.heading)))
    widths = [
        natural[i] if column.wide else min(natural[i], max(minimum[i], 22))
        for i, column in enumerate(table.columns)
    ]
    wide = [i for i, c in enumerate(table.columns) if c.wide]
    fixed = sum(w for i, w in enumerate(widths) if i not in wide)
    for i in wide:
        widths[i] = max(min(natural[i], (available - fixed) // len(wide)), 12)
    for floor in (values_fit, minimum):  # shrink the widest column that can still shrink
        while sum(widths) > available:
            candidates = [i for i in range(count) if widths[i] > max(floor[i], 4)]
            if not candidates:
                break
            widest = max(candidates, key=lambda i: widths[i])
            widths[widest] -= 1
    return widths


def _table(block: doc.Table) -> list[str]:
    widths = _column_widths(block)
    out = [f"{block.caption}:"]

    def row_lines(texts: list[str]) -> list[str]:
        cells = [_wrap(text, widths[i]) for i, text in enumerate(texts)]
        lines = []
        for n in range(max(len(c) for c in cells)):
            parts = [
                _pad(cell[n] if n < len(cell) else "", widths[i], right=block.columns[i].numeric)
                for i, cell in enumerate(cells)
            ]
            lines.append(_GAP.join(parts).rstrip())
        return lines

    out += row_lines([c.heading for c in block.columns])
    out.append(_GAP.join("-" * w for w in widths))
    for row in block.rows:
        out += row_lines([cell.text for cell in row])
    for note in block.notes:
        out += _wrap(note, WIDTH)
    return out


def _figure(block: doc.FigureBlock) -> list[str]:
    out = _indented(f"[Figure] {block.caption}", "  ", "")
    for line in block.figure.description:
        out += _indented(line, "    ", "  ")
    return out


def _block(block: doc.Block) -> list[str]:
    if isinstance(block, doc.FieldList):
        return _fields(block)
    if isinstance(block, doc.Prose):
        return _prose(block)
    if isinstance(block, doc.BulletList):
        return _bullets(block)
    if isinstance(block, doc.Table):
        return _table(block)
    if isinstance(block, doc.FigureBlock):
        return _figure(block)
    lines: list[str] = []
    for figure in block.figures:
        lines += [*_figure(figure), ""]
    return lines[:-1]


def _section(section: doc.Section, level: int = 0) -> list[str]:
    if level == 0:
        out = [section.title.upper(), "-" * min(_display_width(section.title), WIDTH)]
    else:
        out = [section.title, "." * min(_display_width(section.title), WIDTH)]
    for block in section.blocks:
        out += [*_block(block), ""]
    for sub in section.subsections:
        out += [*_section(sub, level + 1), ""]
    while out and out[-1] == "":
        out.pop()
    return out


def render_text(report: doc.ReportDocument) -> str:
    """The report as plain text, lines separated by ``\\n``, ending with a newline."""
    lines = [report.title.upper(), report.subtitle, "=" * WIDTH]
    lines += _fields(report.header)
    lines += ["", *_prose(doc.Prose((report.conclusion,), label="Conclusion", emphasis=True))]
    for section in report.sections:
        lines += ["", "", *_section(section)]
    lines += ["", "=" * WIDTH, *_wrap(f"Issued {report.issued}. {report.footer_note}", WIDTH)]
    return "\n".join(line.rstrip() for line in lines) + "\n"
