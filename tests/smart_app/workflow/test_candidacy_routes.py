"""The candidacy page after a launch: the chart read, assessed, shown with evidence; the
attestations saved with the study draft and cited in its indication, naming who gave them;
the patient's studies listed, to continue, to check in the chart, or to amend."""

import asyncio
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from plugin.cli.sandbox import SANDBOX_CLIENT_ID
from plugin.sandbox.synthetic_patients import Scenario, scenarios
from smart_app.drafts import DraftState
from smart_app.workflow.candidacy_words import OUTCOME_WORDS
from tests.smart_app.workflow.conftest import (
    ATTEST_BOTH,
    PATIENT,
    Browser,
    Sandbox,
    SandboxFactory,
    enter_results,
    input_value,
    page_text,
    set_up_three_levels,
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
    # The sandbox order names no region: each payer note says which studies it is about.
    assert "Payer information (cervical and thoracic studies): BCBS North Dakota" in text
    assert "Payer information (lumbar studies): Washington State" in text
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


# -- back to the patient's studies after a relaunch ---------------------------------------


async def sign_and_write(sandbox: Sandbox, browser: Browser) -> None:
    """Preview, sign with the confirmation, and let the outbox write it to the chart."""
    response = await browser.post(
        f"{browser.study_url}/sign",
        browser.form(revision=input_value(browser.page, "revision"), confirm="yes"),  # type: ignore[arg-type]
    )
    await browser.follow(response)
    await sandbox.write_to_chart()


async def test_a_double_click_on_amend_opens_the_one_amendment_twice(sandbox: Sandbox) -> None:
    browser = await sandbox.launch()
    await start_study(browser)
    await set_up_three_levels(browser)
    await enter_results(browser)
    await sign_and_write(sandbox, browser)
    draft_id = browser.draft_id()
    await browser.get("/app/candidacy")
    amend = f"/app/studies/{draft_id}/amend"
    both = await asyncio.gather(
        browser.post(amend, browser.form()), browser.post(amend, browser.form())
    )
    # Both posts open the results page of the amendment the first started: no "changed in
    # another window" page for what was one person's double click.
    assert [r.status_code for r in both] == [303, 303]
    assert {r.headers["location"] for r in both} == {f"/app/studies/{draft_id}/levels"}
    amended = await browser.draft()
    assert amended.state is DraftState.EDITING and amended.based_on_version == 1


async def test_after_a_relaunch_the_signed_study_is_listed_and_can_be_amended(
    sandbox: Sandbox,
) -> None:
    first = await sandbox.launch()
    assert "You have no study for this patient yet" in page_text(first.page)  # type: ignore[arg-type]
    await start_study(first)
    await set_up_three_levels(first)
    await enter_results(first)
    await sign_and_write(sandbox, first)
    draft_id = first.draft_id()

    # The EHR opens the app again: a new session, the same user and patient.
    again = await sandbox.launch()
    text = page_text(again.page)  # type: ignore[arg-type]
    assert "Your studies for this patient" in text
    assert "Signed (version 1) — Discs L3-L4, L4-L5, L5-S1" in text
    assert "Version 1: In the chart. See every version and where it was written" in text
    status_link = f'href="{again.root}/app/studies/{draft_id}/status"'
    assert status_link in again.page.text  # type: ignore[union-attr]
    assert "No study is in progress for this patient: saving starts a new one." in text
    # The patient page leads there too.
    assert 'href="/app/candidacy"' in (await again.get("/app")).text

    # Amend: the next version, from the signed one, opened on the results page.
    await again.get("/app/candidacy")
    response = await again.post(f"/app/studies/{draft_id}/amend", again.form())
    assert response.status_code == 303
    assert response.headers["location"] == f"/app/studies/{draft_id}/levels"
    again.study_url = f"/app/studies/{draft_id}"
    amended = await again.draft()
    assert amended.state is DraftState.EDITING and amended.based_on_version == 1
    assert [lv["level"] for lv in amended.study["levels"]] == ["L3-L4", "L4-L5", "L5-S1"]
    # A second click (another window) opens the same amendment, nothing is reset.
    repeat = await again.post(f"/app/studies/{draft_id}/amend", again.form())
    assert repeat.headers["location"] == f"/app/studies/{draft_id}/levels"
    assert (await again.draft()).revision == amended.revision
    listed = page_text(await again.get("/app/candidacy"))
    assert "Amendment of version 1 in progress, not signed yet" in listed
    assert "Save the assessment and set up the study in progress" in listed

    await again.get(f"{again.study_url}/levels")
    await enter_results(again)
    await sign_and_write(sandbox, again)
    status = page_text(await again.get(f"{again.study_url}/status"))
    assert "Version 2 (amendment): In the chart" in status
    assert "Version 1: In the chart" in status
    assert "Signed (version 2)" in page_text(await again.get("/app/candidacy"))


async def test_only_a_signed_study_of_ones_own_can_be_amended(sandbox: Sandbox) -> None:
    browser = await sandbox.launch()
    await start_study(browser)
    draft_id = browser.draft_id()
    await browser.get("/app/candidacy")
    # Not signed yet: amending opens it as it is.
    response = await browser.post(f"/app/studies/{draft_id}/amend", browser.form())
    assert response.headers["location"] == f"/app/studies/{draft_id}/levels"
    assert (await browser.draft()).based_on_version is None
    # Not this user's (or not a study id at all): not found, with the way back.
    missing = await browser.post(
        "/app/studies/00000000-0000-4000-8000-000000000000/amend", browser.form()
    )
    assert missing.status_code == 404
    assert "Open the patient's studies from the app's start page" in page_text(missing)
    no_csrf = await browser.post(f"/app/studies/{draft_id}/amend", {"patient": PATIENT})
    assert no_csrf.status_code == 403


# -- who attested --------------------------------------------------------------------------


async def launch_as(sandbox: Sandbox, patient: str, user: str) -> Browser:
    window = sandbox.window()
    context = await sandbox.ehr.launch(SANDBOX_CLIENT_ID, patient, user)
    response = await window.http.get(
        "/launch", params={"iss": sandbox.ehr.config.fhir_base, "launch": context.id}
    )
    while response.status_code in (302, 303):
        response = await window.http.get(response.headers["location"])
    assert response.status_code == 200 and str(response.url).endswith("/app/candidacy")
    window.page = response
    return window


async def test_the_report_names_who_attested_a_therapist_is_not_the_physician(
    sandbox: Sandbox,
) -> None:
    # The reviewer's case: a physical therapist ticks both attestations.
    browser = await launch_as(sandbox, "egfr-25", "physical-therapist")
    hint = page_text(browser.page)  # type: ignore[arg-type]
    assert "you, Physical-Therapist Testtherapist (Physical therapist)" in hint
    response = await browser.post(
        "/app/candidacy",
        {"csrf_token": browser.csrf, "patient": "egfr-25", "action": "save", **ATTEST_BOTH},
    )
    page = await browser.follow(response)
    today = datetime.fromtimestamp(sandbox.clock(), UTC).date().isoformat()
    who = f"Attested by Physical-Therapist Testtherapist (Physical therapist) on {today}"
    assert f"{who}." in page_text(page)  # beside each attestation on the page
    draft = await sandbox.hosted.state.workflow.drafts.resume(await browser.owner())
    record = await sandbox.hosted.state.workflow.candidacy.get(draft.id)
    attested = record.summary.split(f"{who}: ", 1)[1]
    assert "Imaging does not explain the patient's pain." in attested
    assert "physician attested" not in record.summary.lower()
    assert {g.attester.reference for g in record.attested} == {
        f"{sandbox.ehr.config.fhir_base}/Practitioner/physical-therapist"
    }


async def test_attestations_are_dated_by_the_sites_day(make_sandbox: SandboxFactory) -> None:
    # A site whose calendar day differs from UTC's at this moment: Pago Pago (UTC-11) before
    # 11:00 UTC, Kiritimati (UTC+14) from 10:00 UTC.
    now = datetime.now(UTC)
    zone = "Pacific/Pago_Pago" if now.hour < 11 else "Pacific/Kiritimati"
    sandbox = await make_sandbox(settings_changes={"timezone": zone})
    browser = await launch_as(sandbox, "egfr-25", "physical-therapist")
    response = await browser.post(
        "/app/candidacy",
        {"csrf_token": browser.csrf, "patient": "egfr-25", "action": "save", **ATTEST_BOTH},
    )
    page = page_text(await browser.follow(response))
    site_day = datetime.fromtimestamp(sandbox.clock(), ZoneInfo(zone)).date()
    utc_day = datetime.fromtimestamp(sandbox.clock(), UTC).date()
    assert site_day != utc_day
    assert f"(Physical therapist) on {site_day.isoformat()}." in page
    assert f"on {utc_day.isoformat()}." not in page


async def test_the_report_preview_cites_who_attested(sandbox: Sandbox) -> None:
    browser = await launch_as(sandbox, PATIENT, "physical-therapist")
    await start_study(browser)
    await set_up_three_levels(browser)
    await enter_results(browser)
    preview = page_text(await browser.get(f"{browser.study_url}/preview.html"))
    today = datetime.fromtimestamp(sandbox.clock(), UTC).date().isoformat()
    assert f"Attested by Physical-Therapist Testtherapist (Physical therapist) on {today}: " in (
        preview
    )
    assert "physician attested" not in preview.lower()
