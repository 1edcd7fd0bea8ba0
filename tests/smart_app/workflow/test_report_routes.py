"""The report preview: the exact HTML render_report makes for the draft, served under its own
policy; the PDF; nothing shown while the study has problems."""

import re

from plugin.interpretation.engine import interpret_study
from plugin.report.render import render_report
from plugin.study.validation import parse_study
from smart_app.workflow.report_preview import preview_issued
from tests.smart_app.workflow.conftest import (
    Browser,
    Sandbox,
    enter_results,
    page_text,
    set_up_three_levels,
    start_study,
)


async def preview(sandbox: Sandbox) -> Browser:
    browser = await sandbox.launch()
    await start_study(browser)
    await set_up_three_levels(browser)
    await enter_results(browser)
    return browser


async def test_the_preview_is_exactly_the_reports_html_for_the_draft(sandbox: Sandbox) -> None:
    browser = await preview(sandbox)
    page = browser.page
    assert page is not None and page.status_code == 200
    src = re.search(r'<iframe class="report-frame"[^>]* src="([^"]+)"', page.text)
    assert src is not None and "sandbox" in page.text.split("<iframe", 1)[1].split(">", 1)[0]
    response = await browser.http.get(src.group(1).replace("&amp;", "&"))
    assert response.status_code == 200

    draft = await browser.draft()
    record = await sandbox.hosted.state.workflow.candidacy.get(draft.id)
    validated = parse_study(draft.study)
    expected = render_report(
        validated.study,
        interpret_study(validated.study),
        issued=preview_issued(draft.updated_at),
        candidacy_summary=record.summary,
        warnings=validated.warnings,
    )
    assert response.text == expected.html
    assert "Candidacy assessment" in response.text and record.summary[:40] in response.text
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "style-src 'unsafe-inline'" in policy
    assert "script-src" not in policy and "frame-ancestors 'self'" in policy

    pdf = await browser.http.get(f"{browser.study_url}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"] == 'attachment; filename="discography-report.pdf"'
    assert pdf.content == expected.pdf


async def test_a_study_with_problems_shows_them_instead_of_a_report(sandbox: Sandbox) -> None:
    browser = await sandbox.launch()
    await start_study(browser)
    await set_up_three_levels(browser)
    page = await browser.get(f"{browser.study_url}/preview")
    text = page_text(page)
    assert "The report cannot be shown yet" in text and "<iframe" not in page.text
    assert "L4-L5 · Pain response: Required for a completed level" in text
    assert re.search(r'href="/app/studies/[^"]+/levels#lv-L4-L5-pain_response"', page.text)
    assert re.search(r"<button type=\"submit\" disabled[^>]*>Sign and send", page.text)
    html = await browser.http.get(f"{browser.study_url}/preview.html")
    assert html.status_code == 409 and "pain_response" in html.text
