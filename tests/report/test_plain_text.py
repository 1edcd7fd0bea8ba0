from __future__ import annotations

import unicodedata

from plugin.report.document import (
    BulletList,
    Cell,
    Column,
    Field,
    FieldList,
    Prose,
    ReportDocument,
    Section,
    Table,
)
from plugin.report.plain_text import WIDTH, render_text


def _columns(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in line)


def _report(*sections: Section) -> ReportDocument:
    return ReportDocument(
        title="Provocative discography report",
        subtitle="Lumbar · 1 level injected",
        identity="Doe · performed —",
        header=FieldList((Field("Patient", "Doe (Patient/1)"),)),
        conclusion="No discogenic level identified.",
        sections=sections,
        author="",
        subject="",
        issued="2026-11-20 11:05 UTC-05:00",
        footer_note="— = not recorded.",
    )


def test_table_columns_line_up_and_numbers_align_right() -> None:
    table = Table(
        "Injection and manometry",
        (Column("Level"), Column("Opening psi", numeric=True), Column("Location", wide=True)),
        (
            (Cell("L4-L5"), Cell("10"), Cell("Central low back")),
            (Cell("L5-S1"), Cell("7.5"), Cell("—")),
        ),
        notes=("— = not recorded.",),
    )
    text = render_text(_report(Section("levels", "Levels injected", (table,))))
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("Level"))
    rule, first, second = lines[header + 1 : header + 4]
    assert set(rule.replace(" ", "")) == {"-"}
    assert first.startswith("L4-L5") and second.startswith("L5-S1")
    # right-aligned numbers end in the same column as their heading
    assert lines[header].index("psi") + 3 == first.index("10") + 2 == second.index("7.5") + 3
    assert first.index("Central") == second.index("—") == lines[header].index("Location")
    assert "— = not recorded." in lines[header + 4]


def test_no_line_is_wider_than_the_layout_even_with_long_or_wide_text() -> None:
    long_words = "x" * 150
    wide_text = "腰痛" * 40
    table = Table(
        "Provoked pain",
        (Column("Level"), Column("Location", wide=True), Column("Response")),
        ((Cell("L4-L5"), Cell(f"{wide_text} {long_words}"), Cell("Concordant")),),
    )
    section = Section(
        "indication",
        "Indication",
        (
            Prose((wide_text, long_words)),
            BulletList((wide_text,), label="Reasons"),
            FieldList((Field("A label that is quite long indeed, really", wide_text),)),
            table,
        ),
    )
    text = render_text(_report(section))
    assert all(_columns(line) <= WIDTH for line in text.splitlines())
    joined = "".join(text.split())
    assert wide_text in joined and long_words in joined


def test_sections_are_headed_and_the_conclusion_stands_out() -> None:
    text = render_text(_report(Section("impression", "Impression", (Prose(("Body.",)),))))
    lines = text.splitlines()
    assert lines[0] == "PROVOCATIVE DISCOGRAPHY REPORT"
    assert ">> No discogenic level identified." in text
    index = lines.index("IMPRESSION")
    assert lines[index + 1] == "-" * len("Impression")
    assert text.endswith("\n") and "\r" not in text
    assert "Issued 2026-11-20 11:05 UTC-05:00." in text
