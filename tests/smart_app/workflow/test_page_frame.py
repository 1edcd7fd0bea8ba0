"""Around every workflow page: the banner when the EHR asks for it, the EHR's style, the
steps; a banner that cannot be read is a warning, never a lost page."""

import html
import re

import httpx

from tests.smart_app.workflow.conftest import (
    ATTEST_BOTH,
    BASE,
    PATIENT,
    Browser,
    Sandbox,
    SandboxFactory,
    input_value,
    page_text,
    start_study,
)


async def test_banner_style_and_steps_on_every_page(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox()
    browser = await sandbox.launch()
    await start_study(browser)
    for page in ("setup", "levels", "preview", "status"):
        response = await browser.get(f"{browser.study_url}/{page}")
        assert response.status_code == 200, page
        assert 'class="patient-banner"' in response.text
        assert "Lumbar-Candidate Testpatient" in response.text
        root = browser.root  # the window's own addresses
        assert f'<link rel="stylesheet" href="{root}/app/style.css">' in response.text
        assert f'<script src="{root}/app/static/workflow.js" defer></script>' in response.text
        assert 'aria-current="step"' in response.text
        assert "<script>" not in response.text  # no inline script: the CSP forbids it


async def test_no_page_title_names_the_patient(sandbox: Sandbox) -> None:
    # The browser keeps titles in its history: the name is shown in the banner only.
    browser = await sandbox.launch()
    await start_study(browser)
    pages = [f"{browser.root}/app", f"{browser.root}/app/candidacy"] + [
        f"{browser.study_url}/{page}" for page in ("setup", "levels", "preview", "status")
    ]
    for url in pages:
        response = await browser.get(url)
        title = re.search(r"<title>(.*?)</title>", response.text, re.S)
        assert title is not None and title.group(1).endswith(" · Discography"), url
        assert "Testpatient" not in title.group(1), url
        assert "Lumbar-Candidate Testpatient" in page_text(response), url  # in the banner


async def test_no_banner_when_the_ehr_shows_its_own(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(need_patient_banner=False)
    browser = await sandbox.launch()
    assert 'class="patient-banner"' not in browser.page.text  # type: ignore[union-attr]
    await start_study(browser)
    levels = await browser.get(f"{browser.study_url}/levels")
    assert 'class="patient-banner"' not in levels.text


async def test_a_patient_that_cannot_be_read_is_a_warning(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(withheld_scopes=["patient/Patient.rs"])
    browser = await sandbox.launch()
    text = page_text(browser.page)  # type: ignore[arg-type]
    assert (
        "The patient could not be shown: the EHR did not grant permission to read Patient." in text
    )
    assert "Patient the EHR did not grant reading it" in text  # and the chart gap


async def study_for(
    sandbox: Sandbox, patient: str, levels: dict[str, str], region: str = "lumbar"
) -> Browser:
    """`patient` assessed (both attestations) and set up with `levels` (disc → role)."""
    browser = await sandbox.launch(patient)
    response = await browser.post(
        "/app/candidacy", {**browser.form(action="continue", **ATTEST_BOTH), "patient": patient}
    )
    page = await browser.follow(response)
    browser.study_url = str(page.url).removesuffix("/setup").replace(BASE, "")
    fields = browser.form(
        patient=patient,
        revision=input_value(page, "revision"),
        region=region,
        action="continue",
        **{"technique-fields": "1"},
    )
    for level, role in levels.items():
        fields[f"inject-{level}"] = "on"
        if role == "control":
            fields[f"control-{level}"] = "on"
    await browser.follow(await browser.post(f"{browser.study_url}/setup", fields))
    return browser


def reminder_text(response: httpx.Response) -> str:
    match = re.search(r"<section class=\"candidacy-reminder.*?</section>", response.text, re.S)
    assert match is not None, "no candidacy reminder on the page"
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", match.group(0))))


async def test_a_contraindication_is_repeated_on_setup_results_and_preview(
    sandbox: Sandbox,
) -> None:
    browser = await study_for(sandbox, "pregnant", {"L3-L4": "control", "L4-L5": "suspected"})
    for page in ("setup", "levels", "preview"):
        response = await browser.get(f"{browser.study_url}/{page}")
        text = reminder_text(response)
        assert "Candidacy: not a candidate" in text, page
        assert "Contraindication: Pregnant. Not a candidate while pregnant." in text, page
        assert 'class="candidacy-reminder warning-box"' in response.text


async def test_a_fused_disc_set_up_for_injection_is_warned_about(sandbox: Sandbox) -> None:
    browser = await study_for(
        sandbox, "prior-fusion-l4-l5", {"L3-L4": "control", "L4-L5": "suspected"}
    )
    fused = (
        "L4-L5 is set up to be injected, but the candidacy assessment records it as fused "
        "(Prior spinal fusion at L4-L5): a fused disc cannot be injected."
    )
    for page in ("setup", "levels"):
        assert fused in reminder_text(await browser.get(f"{browser.study_url}/{page}")), page
    # Not about a disc that is not injected.
    other = await study_for(
        sandbox, "prior-fusion-l4-l5", {"L2-L3": "control", "L3-L4": "suspected"}
    )
    text = reminder_text(await other.get(f"{other.study_url}/setup"))
    assert "is set up to be injected" not in text
    assert "Action needed: Prior spinal fusion at L4-L5." in text


async def test_payer_notes_are_those_of_the_studys_region(sandbox: Sandbox) -> None:
    browser = await study_for(sandbox, PATIENT, {"L3-L4": "control", "L4-L5": "suspected"})
    lumbar = reminder_text(await browser.get(f"{browser.study_url}/setup"))
    assert "Washington State L&I does not cover discography for chronic low back pain." in lumbar
    assert "BCBS North Dakota" not in lumbar
    cervical = await study_for(
        sandbox, "cervical-candidate", {"C4-C5": "control", "C5-C6": "suspected"}, "cervical"
    )
    text = reminder_text(await cervical.get(f"{cervical.study_url}/setup"))
    assert "BCBS North Dakota rates cervical and thoracic discography investigational." in text
    assert "Washington State" not in text
