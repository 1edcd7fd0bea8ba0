"""Signing (confirmation, scopes), the status page (what was written where, what is queued
and why, the amendment history), sending a failed version again — and CSRF on every post."""

import base64
import io
import re

import httpx
import pytest
from pypdf import PdfReader

from plugin.cli.sandbox import SANDBOX_CLIENT_ID
from plugin.sandbox.behaviour import (
    CannedResponse,
    Fault,
    FaultHook,
    Interaction,
    SandboxBehaviour,
    SandboxRequest,
)
from smart_app.outbox import ItemState, VersionHistory
from tests.smart_app.workflow.conftest import (
    PATIENT,
    RESULTS,
    Browser,
    Sandbox,
    SandboxFactory,
    enter_results,
    input_value,
    level_fields,
    page_text,
    set_up_three_levels,
    setup_fields,
    start_study,
)


async def ready_to_sign(sandbox: Sandbox) -> Browser:
    browser = await sandbox.launch()
    await start_study(browser)
    await set_up_three_levels(browser)
    await enter_results(browser)
    return browser


async def sign(browser: Browser, **extra: str) -> httpx.Response:
    assert browser.page is not None
    fields = browser.form(revision=input_value(browser.page, "revision"), confirm="yes")
    fields.update(extra)
    return await browser.post(f"{browser.study_url}/sign", fields)


async def history(sandbox: Sandbox, browser: Browser) -> list[VersionHistory]:
    owner = await browser.owner()
    draft = await browser.draft()
    versions: list[VersionHistory] = await sandbox.hosted.state.outbox.store.history(
        owner.iss, owner.patient_id, draft.study_id
    )
    return versions


async def test_signing_needs_the_confirmation(sandbox: Sandbox) -> None:
    browser = await ready_to_sign(sandbox)
    response = await sign(browser, confirm="")
    assert response.status_code == 422
    assert "Tick the box to confirm you have reviewed the report." in page_text(response)
    assert await history(sandbox, browser) == []
    # As on every other page: an error summary (an alert the page's script focuses) linking
    # to the box, besides the message at the box itself.
    summary = re.search(
        r'<div class="error-summary" role="alert" tabindex="-1" data-error-summary>(.*?)</div>',
        response.text,
        re.S,
    )
    assert summary is not None
    assert (
        '<a href="#confirm">Confirmation: Tick the box to confirm you have reviewed the '
        "report.</a>" in summary.group(1)
    )
    assert "There is a problem" in summary.group(1)
    assert 'id="confirm-error">Tick the box' in response.text


async def test_signing_is_refused_with_the_reason_when_no_create_scope_was_granted(
    make_sandbox: SandboxFactory,
) -> None:
    sandbox = await make_sandbox(withheld_scopes=["patient/DocumentReference.c"])
    browser = await ready_to_sign(sandbox)
    text = page_text(browser.page)  # type: ignore[arg-type]
    assert "The EHR did not grant permission to create DocumentReference" in text
    assert re.search(r"<button type=\"submit\" disabled[^>]*>Sign and send", browser.page.text)  # type: ignore[union-attr]
    response = await sign(browser)
    assert response.status_code == 403
    assert await history(sandbox, browser) == []


async def test_signed_then_written_the_status_page_says_what_went_where(
    sandbox: Sandbox,
) -> None:
    browser = await ready_to_sign(sandbox)
    page = await browser.follow(await sign(browser))
    assert str(page.url).endswith("/status")
    assert '<meta http-equiv="refresh" content="3">' in page.text  # queued: it reloads itself
    assert "Version 1: Waiting to be sent to the EHR" in page_text(page)

    await sandbox.write_to_chart()
    page = await browser.get(f"{browser.study_url}/status")
    text = page_text(page)
    assert 'http-equiv="refresh"' not in page.text
    kinds = "DiagnosticReport, DocumentReference, Observation, Procedure, Provenance"
    assert f"Version 1 is in the chart ({kinds})" in text
    rows = re.findall(
        r"<tr><td>([^<]+)</td><td>([A-Za-z]+)</td><td><code>([^<]+)</code></td>", page.text
    )
    assert [r[1] for r in rows].count("Observation") == 3
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url="http://127.0.0.1:8000"
    ) as fhir:
        for _role, resource_type, server_id in rows:
            found = await fhir.get(
                f"/fhir/{resource_type}/{server_id}", headers=sandbox.fhir_token()
            )
            assert found.status_code == 200, (resource_type, server_id)


async def test_a_double_submit_signs_once(sandbox: Sandbox) -> None:
    browser = await ready_to_sign(sandbox)
    first = await sign(browser)
    second = await sign(browser)
    assert first.status_code == second.status_code == 303
    assert len(await history(sandbox, browser)) == 1


def refuse_transactions(request: SandboxRequest) -> Fault | None:
    """The EHR rejecting the report's transaction with its own reason (422)."""
    if request.interaction is not Interaction.TRANSACTION:
        return None
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "error", "code": "business-rule", "diagnostics": "Note type not enabled"}
        ],
    }
    return Fault(respond=CannedResponse(status=422, body=outcome))


async def test_a_refused_write_is_shown_with_its_reason_and_can_be_sent_again(
    sandbox: Sandbox,
) -> None:
    browser = await ready_to_sign(sandbox)
    sandbox.ehr.behaviour = SandboxBehaviour(fault=refuse_transactions)
    await browser.follow(await sign(browser))
    await sandbox.write_to_chart()
    page = await browser.get(f"{browser.study_url}/status")
    text = page_text(page)
    assert "Version 1: Not sent: the EHR refused it" in text
    assert "Why:" in text and "Send version 1 again" in text
    assert 'http-equiv="refresh"' not in page.text  # nothing will happen by itself
    sandbox.ehr.behaviour = SandboxBehaviour()
    response = await browser.post(
        f"{browser.study_url}/retry", browser.form(item=input_value(page, "item"))
    )
    page = await browser.follow(response)
    assert "Version 1: Waiting to be sent to the EHR" in page_text(page)
    await sandbox.write_to_chart()
    page = await browser.get(f"{browser.study_url}/status")
    assert "Version 1 is in the chart" in page_text(page)


def fail_first_transaction(outcome: Fault) -> FaultHook:
    """The EHR failing the report's first transaction in the way given; later ones pass."""
    seen = []

    def hook(request: SandboxRequest) -> Fault | None:
        if request.interaction is not Interaction.TRANSACTION:
            return None
        seen.append(request)
        return outcome if len(seen) == 1 else None

    return hook


async def documents_in_chart(sandbox: Sandbox, patient: str = PATIENT) -> int:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url="http://127.0.0.1:8000"
    ) as fhir:
        found = await fhir.get(
            "/fhir/DocumentReference",
            params={"patient": patient, "_count": "200"},
            headers=sandbox.fhir_token(patient),
        )
    bundle = found.json()
    return sum(
        1
        for entry in bundle.get("entry", [])
        if any("discography" in i.get("system", "") for i in entry["resource"]["identifier"])
    )


async def test_a_launch_for_another_patient_does_not_take_over_a_queued_report(
    sandbox: Sandbox,
) -> None:
    browser = await ready_to_sign(sandbox)
    busy = Fault(respond=CannedResponse(status=503, headers={"Retry-After": "1"}))
    sandbox.ehr.behaviour = SandboxBehaviour(fault=fail_first_transaction(busy))
    await browser.follow(await sign(browser))
    await sandbox.write_to_chart()  # 503: queued again
    await sandbox.launch("cervical-candidate")  # the clinician moves on to the next patient
    sandbox.clock.advance(120)
    await sandbox.write_to_chart()
    sandbox.clock.advance(-120)
    page = await browser.get(f"{browser.study_url}/status")
    assert "Version 1 is in the chart" in page_text(page)
    assert await documents_in_chart(sandbox) == 1


async def test_a_lost_answer_waits_for_a_launch_for_its_own_patient(sandbox: Sandbox) -> None:
    browser = await ready_to_sign(sandbox)
    lost = Fault(after_commit=CannedResponse(status=504))
    sandbox.ehr.behaviour = SandboxBehaviour(fault=fail_first_transaction(lost))
    await browser.follow(await sign(browser))
    (signed,) = await history(sandbox, browser)
    await sandbox.write_to_chart()  # filed, but the answer was lost
    await sandbox.hosted.state.smart.sessions.end(browser.session_id())
    sandbox.clock.advance(3600)
    await sandbox.write_to_chart()  # no session: waits for sign-in
    sandbox.clock.advance(-3600)  # the sandbox checks client assertions on this clock
    await sandbox.launch("cervical-candidate")
    await sandbox.write_to_chart()
    item = await sandbox.hosted.state.outbox.store.item(signed.item.id)
    assert item.state is ItemState.WAITING_FOR_SIGN_IN
    await sandbox.launch(PATIENT, browser)
    # The study, as the new window's pages link to it.
    browser.study_url = browser.address(browser.study_url)  # type: ignore[arg-type]
    await sandbox.write_to_chart()  # reconciliation with this patient's token finds it
    page = await browser.get(f"{browser.study_url}/status")
    assert "Version 1 is in the chart" in page_text(page)
    assert await documents_in_chart(sandbox) == 1


async def test_send_again_writes_with_the_current_session(sandbox: Sandbox) -> None:
    browser = await ready_to_sign(sandbox)
    sandbox.ehr.behaviour = SandboxBehaviour(fault=refuse_transactions)
    await browser.follow(await sign(browser))
    await sandbox.write_to_chart()
    # The session the report was signed in ends; the clinician opens the chart again.
    await sandbox.hosted.state.smart.sessions.end(browser.session_id())
    await sandbox.launch(PATIENT, browser)
    # The study, as the new window's pages link to it.
    browser.study_url = browser.address(browser.study_url)  # type: ignore[arg-type]
    sandbox.ehr.behaviour = SandboxBehaviour()
    page = await browser.get(f"{browser.study_url}/status")
    await browser.post(f"{browser.study_url}/retry", browser.form(item=input_value(page, "item")))
    await sandbox.write_to_chart()
    page = await browser.get(f"{browser.study_url}/status")
    assert "Version 1 is in the chart" in page_text(page)


async def sign_an_amendment(sandbox: Sandbox, browser: Browser) -> None:
    """Change a signed study's L5-S1 pain location, sign version 2 and run the outbox."""
    await browser.get(f"{browser.study_url}/levels")
    assert "Saving a change starts an amendment" in page_text(browser.page)  # type: ignore[arg-type]
    changed = {**RESULTS, "L5-S1": {**RESULTS["L5-S1"], "pain_location": "left buttock"}}
    response = await browser.post(
        f"{browser.study_url}/levels", level_fields(browser, changed, action="preview")
    )
    await browser.follow(response)
    await browser.follow(await sign(browser))
    await sandbox.write_to_chart()


async def test_an_amendment_is_a_second_version_and_the_history_keeps_both(
    sandbox: Sandbox,
) -> None:
    browser = await ready_to_sign(sandbox)
    await browser.follow(await sign(browser))
    await sandbox.write_to_chart()
    await sign_an_amendment(sandbox, browser)
    page = await browser.get(f"{browser.study_url}/status")
    text = page_text(page)
    assert "Version 2 (amendment): In the chart" in text
    assert "Version 1: In the chart" in text
    assert text.index("Version 2 (amendment)") < text.index("Version 1: In the chart")


async def test_moving_between_the_pages_of_a_signed_study_keeps_it_signed(
    sandbox: Sandbox,
) -> None:
    # The save buttons also move between pages: saving what was signed, unchanged, starts no
    # amendment (signing it would send an identical next version).
    browser = await ready_to_sign(sandbox)
    await browser.follow(await sign(browser))
    signed = await browser.draft()

    await browser.get(f"{browser.study_url}/levels")
    same = level_fields(browser, {"L4-L5": {**RESULTS["L4-L5"], "opening_pressure_psi": "10.0"}})
    answer = await browser.http.post(
        f"{browser.study_url}/levels/autosave",
        data={k: v for k, v in same.items() if k != "csrf_token"},
        headers={"X-CSRF-Token": browser.csrf},
    )
    assert answer.status_code == 200 and answer.json()["revision"] == signed.revision
    preview = await browser.follow(
        await browser.post(f"{browser.study_url}/levels", {**same, "action": "preview"})
    )
    assert "Version 1 of this report is signed." in page_text(preview)

    await browser.get(f"{browser.study_url}/setup")
    results = await browser.follow(
        await browser.post(f"{browser.study_url}/setup", setup_fields(browser, action="continue"))
    )
    assert str(results.url).endswith("/levels")
    assert await browser.draft() == signed
    candidacy = await browser.get(f"{browser.root}/app/candidacy")
    assert "Signed (version 1)" in page_text(candidacy)
    assert "Amendment of version 1" not in page_text(candidacy)


async def test_free_text_is_escaped_in_pages_and_kept_exactly_in_the_pdf_and_fhir(
    sandbox: Sandbox,
) -> None:
    hostile = "<script>alert('x')</script> \"quoted\" & боль 腰痛"
    browser = await sandbox.launch()
    await start_study(browser)
    await set_up_three_levels(browser)
    results = {**RESULTS, "L4-L5": {**RESULTS["L4-L5"], "pain_location": hostile}}
    response = await browser.post(
        f"{browser.study_url}/levels", level_fields(browser, results, action="save")
    )
    page = await browser.follow(response)
    assert "<script>alert" not in page.text
    assert (
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &#34;quoted&#34; &amp; боль 腰痛"
        in page.text
    )
    assert input_value(page, "lv-L4-L5-pain_location") == hostile
    preview = await browser.get(f"{browser.study_url}/preview")
    report = await browser.http.get(f"{browser.study_url}/preview.html")
    assert "<script>alert" not in report.text and "&lt;script&gt;" in report.text
    pdf = await browser.http.get(f"{browser.study_url}/report.pdf")
    words = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "<script>alert('x')</script>" in words and '"quoted" & боль' in words
    await browser.follow(await sign(browser))
    await sandbox.write_to_chart()
    status = await browser.get(f"{browser.study_url}/status")
    ids = dict(
        (t, i)
        for _r, t, i in re.findall(
            r"<tr><td>([^<]+)</td><td>([A-Za-z]+)</td><td><code>([^<]+)</code></td>", status.text
        )
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url="http://127.0.0.1:8000"
    ) as fhir:
        note = (
            await fhir.get(
                f"/fhir/DocumentReference/{ids['DocumentReference']}",
                headers=sandbox.fhir_token(),
            )
        ).json()
        observations = (
            await fhir.get(
                "/fhir/Observation",
                params={"patient": "lumbar-candidate", "_count": "50"},
                headers=sandbox.fhir_token(),
            )
        ).json()
    attachments = {a["attachment"]["contentType"]: a["attachment"] for a in note["content"]}
    plain = base64.b64decode(attachments["text/plain; charset=utf-8"]["data"]).decode("utf-8")
    assert hostile in plain
    texts = str(observations)
    assert hostile in texts or hostile.replace("'", "\\'") in texts
    assert preview.status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/app/candidacy", "setup", "setup/order", "levels", "levels/autosave", "sign", "retry"],
)
async def test_every_post_needs_the_sessions_csrf_token(sandbox: Sandbox, path: str) -> None:
    browser = await sandbox.launch()
    await start_study(browser)
    url = path if path.startswith("/") else f"{browser.study_url}/{path}"
    for token in (None, "not-the-token"):
        data = {"patient": "lumbar-candidate", "action": "save"}
        if token is not None:
            data["csrf_token"] = token
        response = await browser.http.post(url, data=data)
        assert response.status_code == 403, (url, token)
        assert "The form could not be accepted" in page_text(response)


async def test_a_change_made_in_the_ehr_is_replaced_only_after_the_user_confirms(
    sandbox: Sandbox,
) -> None:
    browser = await ready_to_sign(sandbox)
    await browser.follow(await sign(browser))
    await sandbox.write_to_chart()
    # Someone adds an addendum to the report in the EHR.
    edit = sandbox.ehr.issue_access_token(SANDBOX_CLIENT_ID, "patient/*.cruds", patient=PATIENT)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url="http://127.0.0.1:8000"
    ) as fhir:
        headers = {"Authorization": f"Bearer {edit.token}"}
        found = await fhir.get(
            "/fhir/DiagnosticReport", params={"patient": PATIENT}, headers=headers
        )
        (report,) = [
            e["resource"]
            for e in found.json()["entry"]
            if any(
                "discography" in i.get("system", "") for i in e["resource"].get("identifier", [])
            )
        ]
        report["extension"] = [{"url": "http://ehr.example/addendum", "valueString": "Seen"}]
        edited = await fhir.put(
            f"/fhir/DiagnosticReport/{report['id']}", json=report, headers=headers
        )
        assert edited.status_code == 200
    await sign_an_amendment(sandbox, browser)
    page = await browser.get(f"{browser.study_url}/status")
    text = page_text(page)
    assert "Version 2 (amendment): Not sent" in text
    assert (
        f"I reviewed the change made in the EHR to the DiagnosticReport "
        f"DiagnosticReport/{report['id']} (version 2 in the EHR): replace it with version 2"
    ) in text
    item = input_value(page, "item")
    refused = await browser.post(f"{browser.study_url}/retry", browser.form(item=item))
    assert refused.status_code == 409
    assert "Review the change in the chart first" in page_text(refused)
    response = await browser.post(
        f"{browser.study_url}/retry", browser.form(item=item, confirmed_overwrite="yes")
    )
    await browser.follow(response)
    await sandbox.write_to_chart()
    page = await browser.get(f"{browser.study_url}/status")
    text = page_text(page)
    assert "Version 2 is in the chart" in text
    assert "as the user confirmed after reviewing the change" in text
