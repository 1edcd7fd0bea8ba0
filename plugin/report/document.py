"""The discogram report as data: sections of fields, prose, lists, tables and figures.

Built once (`plugin.report.contents`) and laid out three ways (HTML, PDF, plain text), so the
three renderings cannot say different things. Every string here is final wording; renderers
only lay it out and escape it for their format.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from plugin.report.figures import Figure

__all__ = [
    "Block",
    "BulletList",
    "Cell",
    "Column",
    "Field",
    "FieldList",
    "FigureBlock",
    "FigureRow",
    "Prose",
    "ReportDocument",
    "Section",
    "Table",
    "Tone",
]


class Tone(StrEnum):
    """Emphasis of a cell or line: a level's mark, or a criterion's status."""

    POSITIVE = "positive"
    NEGATIVE = "negative"
    CONTROL = "control"
    INDETERMINATE = "indeterminate"
    NOT_ASSESSABLE = "not-assessable"
    MET = "met"
    FAILED = "failed"
    NOT_RECORDED = "not-recorded"


@dataclass(frozen=True, slots=True)
class Field:
    label: str
    value: str
    tone: Tone | None = None


@dataclass(frozen=True, slots=True)
class FieldList:
    """Label–value pairs (technique, header)."""

    fields: tuple[Field, ...]
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Prose:
    """Paragraphs of text; `emphasis` marks the one conclusion the reader must not miss."""

    paragraphs: tuple[str, ...]
    label: str | None = None
    emphasis: bool = False


@dataclass(frozen=True, slots=True)
class BulletList:
    items: tuple[str, ...]
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    tone: Tone | None = None


@dataclass(frozen=True, slots=True)
class Column:
    heading: str
    numeric: bool = False  # right-aligned
    wide: bool = False  # free text: gets the spare width and wraps


@dataclass(frozen=True, slots=True)
class Table:
    """Rows of cells; the first cell of each row names the row (a ``<th scope="row">``)."""

    caption: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    notes: tuple[str, ...] = ()  # keys to the abbreviations and scales used


@dataclass(frozen=True, slots=True)
class FigureBlock:
    figure: Figure
    caption: str


@dataclass(frozen=True, slots=True)
class FigureRow:
    """Small figures laid side by side where the page allows (the pressure charts)."""

    figures: tuple[FigureBlock, ...]


Block = FieldList | Prose | BulletList | Table | FigureBlock | FigureRow


@dataclass(frozen=True, slots=True)
class Section:
    id: str  # stable anchor, e.g. "impression"
    title: str
    blocks: tuple[Block, ...] = ()
    subsections: tuple[Section, ...] = ()
    tone: Tone | None = None


@dataclass(frozen=True, slots=True)
class ReportDocument:
    """The whole report. `identity` (patient and date) heads every printed page; `title`,
    `author` and `subject` are the PDF metadata and carry no patient data."""

    title: str
    subtitle: str
    identity: str
    header: FieldList
    conclusion: str
    sections: tuple[Section, ...]
    author: str
    subject: str
    issued: str
    footer_note: str
    language: str = "en"
