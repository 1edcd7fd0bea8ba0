"""The candidacy page after a launch: the chart read, assessed, shown with evidence; the
attestations saved with the study draft and cited in its indication."""

import re

import pytest

from plugin.sandbox.synthetic_patients import Scenario, scenarios
from smart_app.workflow.candidacy_routes import OUTCOME_WORDS
from tests.smart_app.workflow.conftest import (
    PATIENT,
    Sandbox,
    SandboxFactory,
    page_text,
    start_study,
)


async def test_the_candidacy_page_comes_first_with_outcome_evidence_and_attestations(
    sandbox: Sandbox,
) -> None:
    browser = await sandbox.launch()
    text = page_text(browser.page)  # type: ignore[arg-type]
    assert "Lumbar-Candidate Testpatient" in text  # the banner (need_patient_banner)
    # Without the attestations the two criteria they decide stay unknown.
    assert "Outcome: needs review" in text
    assert "Unknown Treatment decision hinges on the result" in text
    assert "Met Persistent axial pain" in text
    assert "Condition/lumbar-candidate-cond-01" in text  # evidence, by reference
    assert 'name="attest-imaging-inconclusive"' in browser.page.text  # type: ignore[union-attr]
    assert "Parts of the chart were not read" not in text


async def test_attesting_starts_a_study_whose_indication_cites_the_assessment(
    sandbox: Sandbox,
) -> None:
    browser = await sandbox.launch()
    setup = await start_study(browser)
    assert setup.status_code == 200 and "Study setup" in page_text(setup)
    draft_id = browser.draft_id()
    workflow = sandbox.hosted.state.workflow
    record = await workflow.candidacy.get(draft_id)
    assert record is not None and record.assessment.outcome.value == "candidate"
    assert record.assessment.attestations == ("decision-hinges", "imaging-inconclusive")
    assert "discography-referral" in record.summary
    draft = await browser.draft()
    indication = draft.study["indication"]
    assert any(c.startswith("Persistent axial pain:") for c in indication["criteria_met"])
    assert "DiagnosticReport/lumbar-candidate-mri-01" in indication["reason_references"]
    assert draft.study["patient"] == {
        "reference": f"Patient/{PATIENT}",
        "display": "Lumbar-Candidate Testpatient",
    }
    assert draft.study["performer"]["reference"] == "Practitioner/spine-proceduralist"
    # Back on the candidacy page: the saved attestations are ticked, the study linked.
    page = await browser.get("/app/candidacy")
    assert re.search(r'name="attest-decision-hinges" value="yes" checked', page.text)
    assert "Outcome: candidate" in page_text(page)
    assert f"/app/studies/{draft_id}/levels" in page.text


async def test_saving_again_updates_the_same_study(sandbox: Sandbox) -> None:
    browser = await sandbox.launch()
    await start_study(browser)
    first = browser.draft_id()
    await browser.get("/app/candidacy")
    response = await browser.post(
        "/app/candidacy", browser.form(action="save", **{"attest-imaging-inconclusive": "yes"})
    )
    assert response.status_code == 303 and response.headers["location"] == "/app/candidacy"
    record = await sandbox.hosted.state.workflow.candidacy.get(first)
    assert record.assessment.attestations == ("imaging-inconclusive",)
    assert record.assessment.outcome.value == "needs-review"


async def test_an_unknown_attestation_is_ignored_not_trusted(sandbox: Sandbox) -> None:
    browser = await sandbox.launch()
    await start_study(browser, **{"attest-anything-else": "yes"})
    record = await sandbox.hosted.state.workflow.candidacy.get(browser.draft_id())
    assert record.assessment.attestations == ()


async def test_a_chart_part_the_ehr_did_not_grant_is_named_next_to_the_outcome(
    make_sandbox: SandboxFactory,
) -> None:
    sandbox = await make_sandbox(withheld_scopes=["patient/MedicationRequest.rs"])
    browser = await sandbox.launch()
    text = page_text(browser.page)  # type: ignore[arg-type]
    assert "Parts of the chart were not read" in text
    assert "MedicationRequest the EHR did not grant searching it" in text


@pytest.mark.parametrize("scenario", scenarios(), ids=lambda scenario: scenario.patient_id)
async def test_every_synthetic_patient_gets_its_expected_outcome(
    sandbox: Sandbox, scenario: Scenario
) -> None:
    # The third door (besides the CLI and CDS Hooks): the app's candidacy page, with both
    # attestations given, as the scenarios document.
    patient = scenario.patient_id
    outcome = OUTCOME_WORDS[scenario.expected_outcome]
    browser = await sandbox.launch(patient)
    response = await browser.post(
        "/app/candidacy",
        {
            "csrf_token": browser.csrf,
            "patient": patient,
            "attest-imaging-inconclusive": "yes",
            "attest-decision-hinges": "yes",
            "action": "save",
        },
    )
    page = await browser.follow(response)
    assert f"Outcome: {outcome}" in page_text(page)
