"""Around every workflow page: the banner when the EHR asks for it, the EHR's style, the
steps; a banner that cannot be read is a warning, never a lost page."""

from tests.smart_app.workflow.conftest import SandboxFactory, page_text, start_study


async def test_banner_style_and_steps_on_every_page(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox()
    browser = await sandbox.launch()
    await start_study(browser)
    for page in ("setup", "levels", "preview", "status"):
        response = await browser.get(f"{browser.study_url}/{page}")
        assert response.status_code == 200, page
        assert 'class="patient-banner"' in response.text
        assert "Lumbar-Candidate Testpatient" in response.text
        assert '<link rel="stylesheet" href="/app/style.css">' in response.text
        assert '<script src="/app/static/workflow.js" defer></script>' in response.text
        assert 'aria-current="step"' in response.text
        assert "<script>" not in response.text  # no inline script: the CSP forbids it


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
