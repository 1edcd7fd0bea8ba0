"""The report document as one self-contained HTML page: inline CSS and SVG, no scripts, no
external fonts or links, printable. Jinja2 autoescapes every value (free text included); the
only markup inserted unescaped is the SVG that `figure_svg` built with xml.etree.
"""

from __future__ import annotations

import threading
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from plugin.report import document as doc
from plugin.report.figure_svg import figure_svg
from plugin.report.figures import Figure
from plugin.report.marks import MARK_STYLES, LevelMark

__all__ = ["TEMPLATE_DIR", "render_html"]

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

_TONE_COLOURS: dict[str, str] = {
    **{mark.value: style.colour for mark, style in MARK_STYLES.items()},
    doc.Tone.MET.value: MARK_STYLES[LevelMark.CONTROL].colour,
    doc.Tone.FAILED.value: MARK_STYLES[LevelMark.POSITIVE].colour,
    doc.Tone.NOT_RECORDED.value: "#555555",
}


def _kind(block: doc.Block) -> str:
    kinds: dict[type, str] = {
        doc.FieldList: "fields",
        doc.Prose: "prose",
        doc.BulletList: "bullets",
        doc.Table: "table",
        doc.FigureBlock: "figure",
        doc.FigureRow: "figure_row",
    }
    return kinds[type(block)]


def _svg(figure: Figure) -> Markup:
    # Safe: xml.etree escaped every text node and attribute of the figure.
    return Markup(figure_svg(figure))  # noqa: S704


_LOCK = threading.Lock()
_ENVIRONMENT: Environment | None = None


def _environment() -> Environment:
    """Built on first use and kept, so the template is compiled once per process."""
    global _ENVIRONMENT
    with _LOCK:
        if _ENVIRONMENT is None:
            env = Environment(
                loader=FileSystemLoader(TEMPLATE_DIR),
                autoescape=select_autoescape(
                    enabled_extensions=("html", "xml"), default_for_string=True, default=True
                ),
                undefined=StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
                auto_reload=False,
            )
            env.globals.update(kind=_kind, svg=_svg, tone_colours=_TONE_COLOURS)
            _ENVIRONMENT = env
        return _ENVIRONMENT


def render_html(report: doc.ReportDocument) -> str:
    """The complete HTML document (``<!DOCTYPE html>`` … ``</html>``)."""
    return _environment().get_template("report.html").render(report=report).lstrip()
