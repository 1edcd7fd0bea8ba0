"""The revision a posted form was made from."""

from __future__ import annotations

import httpx
import pytest

from plugin.cli.sandbox import SANDBOX_CLIENT_ID
from smart_app.drafts import UNIDENTIFIED_USER, Draft, DraftOwner, DraftState, StaleDraftError
from smart_app.drafts.errors import RevisionMissingError
from smart_app.session import LiveSession
from smart_app.workflow.study_access import revision_of
from smart_app.workflow.study_urls import CANDIDACY_PATH
from tests.smart_app.workflow.conftest import (
    ATTEST_BOTH,
    PATIENT,
    USER,
    Browser,
    Sandbox,
    SandboxFactory,
    enter_results,
    input_value,
    level_fields,
    page_text,
    set_up_three_levels,
    start_study,
)

OTHER_PATIENT = "cervical-candidate"

DRAFT = Draft(
    id="d1",
    owner=DraftOwner("https://ehr.example.org/fhir", "p1", "u1"),
    study_id="s1",
    revision=7,
    state=DraftState.EDITING,
    study={},
    problems=(),
    based_on_version=None,
    signed_version=None,
    created_at=0.0,
    updated_at=0.0,
)


def test_the_pages_revision_is_read() -> None:
    assert revision_of({"revision": "3"}, DRAFT) == 3


@pytest.mark.parametrize("posted", ["", "x", "-1", "1e999", "²", "٣", "1" * 10, "1.0"])
def test_anything_but_a_short_ascii_number_is_refused(posted: str) -> None:
    # "²" and "٣" are digits to str.isdigit(); int() refuses the first: never a server error.
    with pytest.raises(RevisionMissingError) as refused:
        revision_of({"revision": posted}, DRAFT)
    assert refused.value.current == DRAFT.revision
    assert "`revision`" in refused.value.detail


def test_a_form_without_one_is_refused_as_a_changed_draft() -> None:
    # Taken as the stored revision, it would sign or overwrite what the user never saw.
    with pytest.raises(StaleDraftError) as refused:
        revision_of({}, DRAFT)
    assert refused.value.status_code == 409
    assert "nothing was saved or signed" in refused.value.clinician


@pytest.mark.parametrize("posted", [None, "-1", "1e999"])
async def test_signing_without_a_readable_revision_signs_nothing(
    sandbox: Sandbox, posted: str | None
) -> None:
    window = await sandbox.launch()
    await start_study(window)
    await set_up_three_levels(window)
    preview = await enter_results(window)
    assert preview.status_code == 200 and str(preview.url).endswith("/preview")
    before = await window.draft()
    form = window.form(confirm="yes") | ({"revision": posted} if posted is not None else {})
    response = await window.post(f"{window.study_url}/sign", form)
    assert response.status_code == 409
    after = await window.draft()
    assert after.state is before.state and after.revision == before.revision
    assert after.signed_version is None


async def unidentified_launch(sandbox: Sandbox) -> tuple[Browser, LiveSession]:
    """An EHR launch whose EHR did not say who signed in; stops at the redirect to the app."""
    window = sandbox.window()
    context = await sandbox.ehr.launch(SANDBOX_CLIENT_ID, PATIENT, USER)
    response = await window.http.get(
        "/launch", params={"iss": sandbox.ehr.config.fhir_base, "launch": context.id}
    )
    while response.url.path != "/callback" or response.status_code != 303:
        assert response.status_code in (302, 303), page_text(response)[:600]
        response = await window.http.get(response.headers["location"])
    assert response.headers["location"].endswith(CANDIDACY_PATH)  # the launch completes
    services = sandbox.hosted.state.smart
    live = await services.sessions.get(window.session_id())
    assert live is not None and live.session.fhir_user is None
    return window, live


def assert_unidentified_page(response: httpx.Response) -> None:
    assert response.status_code == 403
    text = page_text(response)
    assert "did not tell the app who is signed in" in text
    assert "openid fhirUser" in text


async def test_a_user_the_ehr_did_not_identify_cannot_open_a_draft(
    make_sandbox: SandboxFactory,
) -> None:
    sandbox = await make_sandbox(withheld_scopes=["openid", "fhirUser"])
    window, live = await unidentified_launch(sandbox)
    # A draft left under the id all unidentified users once shared (another clinician's).
    shared = DraftOwner(live.session.iss.rstrip("/"), PATIENT, UNIDENTIFIED_USER)
    draft = await sandbox.hosted.state.workflow.drafts.create(shared)
    assert_unidentified_page(await window.get(f"/app/studies/{draft.id}/levels"))
    assert_unidentified_page(await window.get(f"/app/studies/{draft.id}/setup"))


async def test_a_user_the_ehr_did_not_identify_cannot_start_or_sign_a_study(
    make_sandbox: SandboxFactory,
) -> None:
    sandbox = await make_sandbox(withheld_scopes=["openid", "fhirUser"])
    window, live = await unidentified_launch(sandbox)
    csrf = live.session.csrf_token.get_secret_value()
    form = {"csrf_token": csrf, "patient": PATIENT}
    started = await window.post(CANDIDACY_PATH, form | {"action": "continue", **ATTEST_BOTH})
    assert_unidentified_page(started)
    shared = DraftOwner(live.session.iss.rstrip("/"), PATIENT, UNIDENTIFIED_USER)
    draft = await sandbox.hosted.state.workflow.drafts.create(shared)
    signed = await window.post(f"/app/studies/{draft.id}/sign", form | {"revision": "1"})
    assert_unidentified_page(signed)
    assert await sandbox.hosted.state.workflow.drafts.get(shared, draft.id) == draft


async def test_a_user_the_ehr_did_not_identify_still_sees_the_candidacy_check(
    make_sandbox: SandboxFactory,
) -> None:
    sandbox = await make_sandbox(withheld_scopes=["openid", "fhirUser"])
    window, _live = await unidentified_launch(sandbox)
    page = await window.get(CANDIDACY_PATH)
    assert page.status_code == 200
    text = page_text(page)
    assert "Outcome:" in text
    assert "did not tell the app who is signed in" in text
    assert "Save the assessment" not in text  # nothing offered that would be refused


async def test_two_patients_in_one_browser_each_window_saves_and_signs_its_own(
    sandbox: Sandbox,
) -> None:
    # An EHR keeping two patients open, its embedded browser sharing one cookie store.
    first = await sandbox.launch()
    await start_study(first)
    await set_up_three_levels(first)
    second = await sandbox.launch(OTHER_PATIENT, sandbox.window_beside(first, OTHER_PATIENT))
    await start_study(second)
    await set_up_three_levels(second)

    # The first window's results page goes on saving as typed, then previews and signs.
    saved = await first.http.post(
        f"{first.study_url}/levels/autosave",
        data=level_fields(first),
        headers={"X-CSRF-Token": first.csrf, "Accept": "application/json"},
    )
    assert saved.status_code == 200, saved.text[:600]
    await first.get(f"{first.study_url}/levels")  # the page, at the saved revision
    for window in (first, second):
        preview = await enter_results(window)
        assert preview.status_code == 200
        assert f'name="patient" value="{window.patient}"' in preview.text
        signed = await window.follow(
            await window.post(
                f"{window.study_url}/sign",
                window.form(revision=input_value(preview, "revision"), confirm="yes"),
            )
        )
        assert signed.status_code == 200
        assert "Version 1" in page_text(signed)
    assert (await first.draft()).owner.patient_id == PATIENT
    assert (await second.draft()).owner.patient_id == OTHER_PATIENT
    assert (await first.draft()).signed_version == (await second.draft()).signed_version == 1
    assert first.handle is not None and second.handle not in (None, first.handle)


async def test_without_its_window_a_page_of_two_open_patients_shows_neither(
    sandbox: Sandbox,
) -> None:
    first = await sandbox.launch()
    await start_study(first)
    second = await sandbox.launch(OTHER_PATIENT, sandbox.window_beside(first, OTHER_PATIENT))
    bare = first.study_url.removeprefix(first.root)  # type: ignore[union-attr]
    page = await first.get(f"{bare}/setup")
    assert page.status_code == 409
    assert "this window's patient is not known" in page_text(page).lower()
    assert "Testpatient" not in page.text  # no patient's banner
    assert (await second.get(f"{second.root}/app/candidacy")).status_code == 200
