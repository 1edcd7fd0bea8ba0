"""The report preview: the exact HTML render_report makes for the draft, served under its own
policy; the PDF; nothing shown while the study has problems."""

import html
import re

import httpx

from plugin.interpretation.engine import interpret_study
from plugin.report.render import render_report
from plugin.study.validation import parse_study
from smart_app.workflow.report_preview import preview_issued
from tests.smart_app.workflow.conftest import (
    ATTEST_BOTH,
    BASE,
    Browser,
    Sandbox,
    enter_results,
    level_fields,
    page_text,
    set_up_three_levels,
    setup_fields,
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
    # Every link stays in the app's frame: a new top-level window would lack the session
    # cookie, which inside an EHR iframe is partitioned under the EHR's site.
    assert "target=" not in page.text
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
    assert re.search(r'href="/w/[^/"]+/app/studies/[^"]+/levels#lv-L4-L5-pain_response"', page.text)
    assert re.search(r"<button type=\"submit\" disabled[^>]*>Sign and send", page.text)
    html = await browser.http.get(f"{browser.study_url}/preview.html")
    assert html.status_code == 409 and "pain_response" in html.text


def sign_warnings(page: httpx.Response) -> str:
    match = re.search(r'<div class="warning-box sign-warnings".*?</div>', page.text, re.S)
    assert match is not None, "no warnings beside the sign button"
    return page_text_of(match.group(0))


def page_text_of(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment)))


async def test_the_studys_warnings_stand_beside_the_sign_button_without_blocking_it(
    sandbox: Sandbox,
) -> None:
    browser = await sandbox.launch()
    await start_study(browser)
    await set_up_three_levels(browser)
    page = await enter_results(browser, **{"lv-L4-L5-peak_pressure_psi": "150"})
    assert str(page.url).endswith("/preview")
    text = sign_warnings(page)
    assert "L4-L5 · Peak pressure: 150 psi is above 100 psi; please check" in text
    sign = page.text.split('id="sign-title"', 1)[1]
    assert sign.index("sign-warnings") < sign.index('<button type="submit">Sign and send')
    assert re.search(r'<button type="submit">Sign and send', page.text)  # not disabled
    assert re.search(r'id="confirm"[^>]*aria-describedby="confirm-error sign-warnings"', page.text)


async def test_a_contraindication_stands_beside_the_sign_button(sandbox: Sandbox) -> None:
    browser = await sandbox.launch("pregnant")
    response = await browser.post(
        "/app/candidacy", {**browser.form(action="continue", **ATTEST_BOTH), "patient": "pregnant"}
    )
    page = await browser.follow(response)
    browser.study_url = str(page.url).removesuffix("/setup").replace(BASE, "")
    fields = {**setup_fields(browser, action="continue"), "patient": "pregnant"}
    page = await browser.follow(await browser.post(f"{browser.study_url}/setup", fields))
    results = {**level_fields(browser, action="preview"), "patient": "pregnant"}
    page = await browser.follow(await browser.post(f"{browser.study_url}/levels", results))
    text = sign_warnings(page)
    assert "The candidacy assessment of " in text and "Not a candidate: Pregnant" in text
    assert "Contraindication: Pregnant. Not a candidate while pregnant." in text
    assert re.search(r'<button type="submit">Sign and send', page.text)  # the physician decides
