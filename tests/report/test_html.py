from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from plugin.interpretation.results import LevelCategory
from plugin.report import html as html_module
from plugin.report.contents import build_report_document
from plugin.report.html import render_html
from tests.report.builders import ISSUED, interpretation, level_data, result, study


class _Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in ("meta", "br", "img", "link", "input", "hr"):
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1] if self.open else 'nothing'}")
        else:
            self.open.pop()


@pytest.fixture(scope="module")
def page() -> str:
    s = study(
        [
            level_data("L3-L4", role="control", pain_location="<img src=x onerror=alert(1)>"),
            level_data(
                "L4-L5",
                opening_pressure_psi=10.0,
                onset_pressure_psi=18.0,
                peak_pressure_psi=40.0,
                onset_volume_ml=1.0,
                total_volume_ml=2.0,
                pain_intensity=8,
                pain_response="concordant",
                pain_location='"quoted" & <b>bold</b>',
            ),
        ],
        patient={"reference": "Patient/1", "display": "</title><script>x</script>"},
    )
    interp = interpretation(
        result("L3-L4", LevelCategory.NEGATIVE, role="control"),
        result("L4-L5", LevelCategory.HIGHLY_PROBABLE, delta_p=8.0, controls=("L3-L4",)),
    )
    return render_html(build_report_document(s, interp, issued=ISSUED))


def test_page_is_balanced_self_contained_html_with_a_language(page: str) -> None:
    parser = _Structure()
    parser.feed(page)
    assert parser.errors == [] and parser.open == []
    assert page.startswith("<!DOCTYPE html>")
    tags = [tag for tag, _ in parser.tags]
    assert ("html", {"lang": "en"}) in parser.tags
    assert "script" not in tags and "link" not in tags and "img" not in tags
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "@import" not in page and "url(" not in page


def test_free_text_is_escaped(page: str) -> None:
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&#34;quoted&#34; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert "&lt;/title&gt;&lt;script&gt;x&lt;/script&gt;" in page


def test_tables_have_header_cells_with_scope(page: str) -> None:
    parser = _Structure()
    parser.feed(page)
    scopes = [attrs.get("scope") for tag, attrs in parser.tags if tag == "th"]
    assert "col" in scopes and "row" in scopes
    assert page.count("<caption>") >= 3


def test_figures_are_inline_svg_with_ids_unique_in_the_page(page: str) -> None:
    assert page.count("<svg ") == 2  # spine diagram and one chart
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    assert 'class="disc disc-positive"' in page and 'class="disc disc-control"' in page


def test_template_environment_is_built_once_and_autoescapes() -> None:
    environment = html_module._environment()
    assert html_module._environment() is environment
    template = environment.from_string("{{ value }}")
    assert template.render(value="<b>") == "&lt;b&gt;"
