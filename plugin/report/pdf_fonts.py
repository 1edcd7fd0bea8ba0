"""Fonts for the PDF, registered once per process, and text turned into reportlab Paragraph
markup that draws every character with a font that has it.

DejaVu Sans (Debian fonts-dejavu-core, installed by the bootstrap) covers Latin, Greek,
Cyrillic, Arabic and Hebrew. Characters it lacks (Chinese, Japanese, Korean) are drawn with
the first installed fallback TrueType font that has them, else with the PDF standard CJK fonts
(not embedded: the viewer supplies them; the text stays searchable and extractable). Without
DejaVu the PDF falls back to Helvetica and says so in its metadata, rather than failing.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from plugin.report.bidi import visual_order

__all__ = ["FONT_DIRECTORIES", "PdfFonts", "load_pdf_fonts", "pdf_fonts"]

#: Where Debian installs the fonts this module looks for.
FONT_DIRECTORIES: tuple[Path, ...] = (Path("/usr/share/fonts/truetype"),)
_DEJAVU = ("dejavu/DejaVuSans.ttf", "dejavu/DejaVuSans-Bold.ttf")
# TrueType (not CFF) fonts with CJK glyphs, as Debian packages install them.
_FALLBACK_FILES = (
    "droid/DroidSansFallbackFull.ttf",
    "wqy/wqy-microhei.ttc",
    "wqy/wqy-zenhei.ttc",
    "arphic/uming.ttc",
)
# PDF standard CJK fonts by script, used when no CJK TrueType font is installed.
_CID_FONTS = {"hangul": "HYGothic-Medium", "kana": "HeiseiKakuGo-W5", "han": "STSong-Light"}


@dataclass(frozen=True)
class PdfFonts:
    regular: str
    bold: str
    note: str | None  # why the PDF could not use its usual font, for the PDF metadata
    _covers: Callable[[str], bool] = field(repr=False)
    _fallbacks: tuple[tuple[str, Callable[[str], bool]], ...] = field(repr=False)

    def covers(self, char: str) -> bool:
        return char.isspace() or self._covers(char)

    def font_for(self, char: str) -> str | None:
        """The fallback font for a character the regular font lacks (None: regular font)."""
        if self.covers(char):
            return None
        for name, covers in self._fallbacks:
            if covers(char):
                return name
        script = _cjk_script(char)
        return _registered_cid(_CID_FONTS[script]) if script else None

    def markup(self, text: str) -> str:
        """Paragraph markup for plain text: escaped, right-to-left runs in visual order,
        characters the regular font lacks wrapped in a fallback ``<font>``."""
        parts: list[str] = []
        run, run_font = "", None
        for char in visual_order(text, self.covers):
            font = self.font_for(char)
            if font != run_font and run:
                parts.append(_wrap(run, run_font))
                run = ""
            run_font = font
            run += char
        if run:
            parts.append(_wrap(run, run_font))
        return "".join(parts)


def _wrap(run: str, font: str | None) -> str:
    escaped = escape(run, {'"': "&quot;"})
    return f'<font name="{font}">{escaped}</font>' if font else escaped


def _cjk_script(char: str) -> str | None:
    name = unicodedata.name(char, "")
    if name.startswith("HANGUL"):
        return "hangul"
    if name.startswith(("HIRAGANA", "KATAKANA")):
        return "kana"
    if name.startswith(("CJK", "IDEOGRAPHIC")) or name.startswith("FULLWIDTH"):
        return "han"
    return None


_LOCK = threading.Lock()
_FONTS: PdfFonts | None = None


def _registered_cid(name: str) -> str:
    with _LOCK:
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(name))
    return name


def _find(directories: Sequence[Path], relative: str) -> Path | None:
    for directory in directories:
        candidate = directory / relative
        if candidate.is_file():
            return candidate
    return None


def _ttf_covers(font: TTFont) -> Callable[[str], bool]:
    glyphs = font.face.charToGlyph
    return lambda char: ord(char) in glyphs


def _winansi_covers(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def load_pdf_fonts(directories: Sequence[Path]) -> PdfFonts:
    """Find and register the report fonts under `directories` (see `pdf_fonts`)."""
    fallbacks: list[tuple[str, Callable[[str], bool]]] = []
    for relative in _FALLBACK_FILES:
        path = _find(directories, relative)
        if path is None:
            continue
        try:
            # named after the real file, so one name never means two fonts
            font = TTFont(f"Fallback-{path.resolve().stem}", str(path), subfontIndex=0)
        except TTFError:
            continue  # e.g. a CFF-flavoured collection reportlab cannot embed
        pdfmetrics.registerFont(font)
        fallbacks.append((font.fontName, _ttf_covers(font)))

    regular_path, bold_path = (_find(directories, name) for name in _DEJAVU)
    if regular_path and bold_path:
        try:
            regular = TTFont("DejaVuSans", str(regular_path))
            bold = TTFont("DejaVuSans-Bold", str(bold_path))
        except TTFError as exc:
            return _helvetica(f"DejaVu Sans could not be read ({exc})", fallbacks)
        pdfmetrics.registerFont(regular)
        pdfmetrics.registerFont(bold)
        for italic in (0, 1):
            addMapping("DejaVuSans", 0, italic, "DejaVuSans")
            addMapping("DejaVuSans", 1, italic, "DejaVuSans-Bold")
        return PdfFonts(
            "DejaVuSans", "DejaVuSans-Bold", None, _ttf_covers(regular), tuple(fallbacks)
        )
    return _helvetica("DejaVu Sans not installed (Debian package fonts-dejavu-core)", fallbacks)


def _helvetica(reason: str, fallbacks: list[tuple[str, Callable[[str], bool]]]) -> PdfFonts:
    note = f"font fallback: Helvetica, {reason}; characters outside Western European may be missing"
    return PdfFonts("Helvetica", "Helvetica-Bold", note, _winansi_covers, tuple(fallbacks))


def pdf_fonts() -> PdfFonts:
    """The report fonts, registered with reportlab on first use."""
    global _FONTS
    with _LOCK:
        if _FONTS is None:
            _FONTS = load_pdf_fonts(FONT_DIRECTORIES)
        return _FONTS
