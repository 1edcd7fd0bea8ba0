"""The results entry page: a group of fields per disc in injection order, validated as typed
with the core's messages, the interpretation updating beside it. Every change is saved to the
server-side draft — by the page's script as values are typed (a JSON answer with the messages
and the new interpretation panel), or by the plain form post without script — so a reload, an
expired token or a closed iframe loses nothing; invalid values are kept and shown with their
message."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from plugin.errors import Problem
from plugin.study.model import SHORT_TEXT_MAX_CHARACTERS
from smart_app.dependencies import (
    ServicesDep,
    SessionDep,
    csrf_protect,
    same_patient_form,
    session_fhir_client,
)
from smart_app.drafts import Draft, DraftOwner, DraftState, StaleDraftError
from smart_app.fhir_client import FhirClient
from smart_app.pages import render
from smart_app.session import LiveSession
from smart_app.workflow.draft_saving import StudyNotSavedError, page_editor, save_draft
from smart_app.workflow.entry_fields import COMPLICATION_CHOICES
from smart_app.workflow.entry_view import (
    disc_entries,
    injected_levels,
    panel_view,
    study_fields,
)
from smart_app.workflow.field_targets import field_messages, field_target, summary_items
from smart_app.workflow.form_fields import form_fields
from smart_app.workflow.level_form import apply_level_form
from smart_app.workflow.page_frame import Step, candidacy_reminder, page_frame
from smart_app.workflow.services import WorkflowDep
from smart_app.workflow.study_access import OwnedDraftDep, revision_of
from smart_app.workflow.study_check import StudyCheck, check_study
from smart_app.workflow.study_urls import study_url, study_urls

__all__ = ["entry_router", "saved_words"]

entry_router = APIRouter(dependencies=[Depends(csrf_protect)])
ClientDep = Annotated[FhirClient, Depends(session_fhir_client)]
PatientFormDep = Annotated[LiveSession, Depends(same_patient_form)]

_LEVELS_PATH = "/app/studies/{draft_id}/levels"
STALE_NOTICE = (
    "This study was changed in another window since this page was loaded. Your values are "
    "shown below but not saved: save again to keep them (they replace the other window's), "
    "or reload the page to see the other window's version."
)


def _now(services: ServicesDep) -> datetime:
    """The app's clock: a procedure cannot have been performed after it."""
    return datetime.fromtimestamp(services.clock(), UTC)


def saved_words(draft: Draft) -> str:
    at = datetime.fromtimestamp(draft.updated_at, UTC).strftime("%H:%M:%S")
    return f"All changes saved at {at} UTC (revision {draft.revision})."


def _entry_problems(check: StudyCheck, document: dict[str, Any]) -> tuple[Problem, ...]:
    """The problems shown while recording: those of this page, plus any elsewhere that the
    summary links to."""
    return tuple(p for p in check.shown_problems if field_target(p.field, document).step)


def _panel_context(document: dict[str, Any], check: StudyCheck) -> dict[str, Any]:
    warnings = [f"{field_target(w.field, document).label}: {w.message}" for w in check.warnings]
    return {"panel": panel_view(document, check, warnings)}


async def _levels_page(
    request: Request,
    *,
    services: ServicesDep,
    workflow: WorkflowDep,
    draft: Draft,
    client: FhirClient,
    live: LiveSession,
    document: dict[str, Any],
    revision: int,
    saved_text: str,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    root = request.scope.get("root_path", "")
    urls = study_urls(root, draft.id)
    check = check_study(document, workflow.library, now=_now(services))
    problems = _entry_problems(check, document)
    frame = await page_frame(client, live)
    record = await workflow.candidacy.get(draft.id)
    if draft.state is DraftState.SIGNED and notice is None:
        notice = "This study was signed. Saving a change starts an amendment of the signed report."
    return render(
        request,
        "workflow/levels.html",
        {
            **frame.context(),
            "page_title": "Results",
            "current_step": Step.LEVELS.value,
            "step_links": {step.value: url for step, url in urls.items()},
            "summary_problems": summary_items(problems, document, Step.LEVELS, urls),
            "messages": field_messages(problems, document, Step.LEVELS),
            "notice": notice,
            "candidacy": candidacy_reminder(
                record.assessment if record is not None else None, injected_levels(document)
            ),
            "discs": disc_entries(document, check),
            "study": study_fields(document),
            "complication_choices": COMPLICATION_CHOICES,
            "text_max_length": SHORT_TEXT_MAX_CHARACTERS,
            "revision": revision,
            # This render is its own editor: its later saves may replace its earlier ones,
            # never another window's (DraftStore.save). The page's script counts its saves.
            "editor": secrets.token_urlsafe(16),
            "sequence": 0,
            "saved_text": saved_text,
            "form_action": study_url(root, draft.id, "levels"),
            "autosave_url": study_url(root, draft.id, "levels/autosave"),
            **_panel_context(document, check),
        },
        status_code=status_code,
    )


@entry_router.get(_LEVELS_PATH)
async def levels_page(
    request: Request,
    services: ServicesDep,
    workflow: WorkflowDep,
    draft: OwnedDraftDep,
    client: ClientDep,
    live: SessionDep,
) -> Response:
    return await _levels_page(
        request,
        services=services,
        workflow=workflow,
        draft=draft,
        client=client,
        live=live,
        document=draft.study,
        revision=draft.revision,
        saved_text=saved_words(draft),
    )


@entry_router.post(_LEVELS_PATH)
async def save_levels(
    request: Request,
    services: ServicesDep,
    workflow: WorkflowDep,
    client: ClientDep,
    live: PatientFormDep,
    draft: OwnedDraftDep,
) -> Response:
    """The form posted without script: saved, then the page again (or the preview)."""
    form = await form_fields(request)
    document = apply_level_form(draft.study, form)
    try:
        saved = await save_draft(
            workflow.drafts,
            DraftOwner.of_session(live.session),
            draft.id,
            revision=revision_of(form, draft),
            study=document,
            editor=page_editor(form),
        )
    except (StaleDraftError, StudyNotSavedError) as refused:
        # The form again with every value as typed, and why: another window saved first, or
        # the study is too large to store.
        stale = isinstance(refused, StaleDraftError)
        return await _levels_page(
            request,
            services=services,
            workflow=workflow,
            draft=draft,
            client=client,
            live=live,
            document=document,
            revision=refused.current if isinstance(refused, StaleDraftError) else draft.revision,
            saved_text="Not saved.",
            notice=STALE_NOTICE if stale else refused.clinician,
            status_code=409 if stale else refused.status_code,
        )
    root = request.scope.get("root_path", "")
    page = "preview" if form.get("action") == "preview" else "levels"
    return RedirectResponse(study_url(root, saved.id, page), status_code=303)


@entry_router.post(_LEVELS_PATH + "/autosave")
async def autosave_levels(
    request: Request,
    services: ServicesDep,
    workflow: WorkflowDep,
    live: PatientFormDep,
    draft: OwnedDraftDep,
) -> Response:
    """Save as typed; answer with the field messages and the interpretation panel (JSON)."""
    form = await form_fields(request)
    document = apply_level_form(draft.study, form)
    try:
        saved = await save_draft(
            workflow.drafts,
            DraftOwner.of_session(live.session),
            draft.id,
            revision=revision_of(form, draft),
            study=document,
            editor=page_editor(form),
        )
    except StaleDraftError as stale:
        return JSONResponse({"conflict": STALE_NOTICE, "revision": stale.current}, status_code=409)
    except StudyNotSavedError as refused:
        return JSONResponse({"error": refused.clinician}, status_code=refused.status_code)
    check = check_study(saved.study, workflow.library, now=_now(services))
    problems = _entry_problems(check, saved.study)
    environment = request.app.state.pages
    panel = environment.get_template("workflow/interpretation_panel.html").render(
        **_panel_context(saved.study, check)
    )
    return JSONResponse(
        {
            "revision": saved.revision,
            "saved": saved_words(saved),
            "messages": field_messages(problems, saved.study, Step.LEVELS),
            "panel": panel,
        }
    )
