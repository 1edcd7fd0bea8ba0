"""Signing and what became of it: the signing form's post (confirmation required, refused with
the reason when the EHR granted no way to write the report), the status page that says what
was written where or what is still queued and why (reloading itself until done), and sending
a failed version again."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from plugin.errors import InputProblemError
from smart_app.dependencies import (
    ServicesDep,
    SessionDep,
    csrf_protect,
    same_patient_form,
    session_fhir_client,
)
from smart_app.drafts import DraftOwner, StaleDraftError
from smart_app.fhir_client import FhirClient
from smart_app.pages import render
from smart_app.session import LiveSession
from smart_app.workflow.form_fields import form_fields
from smart_app.workflow.page_frame import Step, page_frame
from smart_app.workflow.report_routes import preview_page_response
from smart_app.workflow.services import WorkflowDep
from smart_app.workflow.status_view import status_view
from smart_app.workflow.study_access import OwnedDraftDep, revision_of
from smart_app.workflow.study_urls import study_url, study_urls
from smart_app.workflow.write_back_permission import write_permission

__all__ = ["signing_router"]

log = logging.getLogger(__name__)

signing_router = APIRouter(dependencies=[Depends(csrf_protect)])
ClientDep = Annotated[FhirClient, Depends(session_fhir_client)]
PatientFormDep = Annotated[LiveSession, Depends(same_patient_form)]

_STALE = (
    "The study changed after this preview was shown (in another window, or by a late save). "
    "Look at the report again below, then sign."
)


@signing_router.post("/app/studies/{draft_id}/sign")
async def sign(
    request: Request,
    services: ServicesDep,
    workflow: WorkflowDep,
    client: ClientDep,
    live: PatientFormDep,
    draft: OwnedDraftDep,
) -> Response:
    form = await form_fields(request)
    permission = write_permission(live.session)
    if not permission.allowed:
        return await preview_page_response(
            request, workflow=workflow, draft=draft, client=client, live=live, status_code=403
        )
    if form.get("confirm") != "yes":
        return await preview_page_response(
            request,
            workflow=workflow,
            draft=draft,
            client=client,
            live=live,
            messages={"confirm": "Tick the box to confirm you have reviewed the report."},
            status_code=422,
        )
    registration = services.registration(live.session.iss)
    record = await workflow.candidacy.get(draft.id)
    owner = DraftOwner.of_session(live.session)
    try:
        signed = await workflow.outbox.signing.sign(
            owner,
            draft.id,
            revision=revision_of(form, draft),
            session_id=live.id,
            document_type=registration.document_type if registration else "18748-4",
            candidacy_summary=record.summary if record is not None else None,
        )
    except StaleDraftError:
        latest = await workflow.drafts.get(owner, draft.id)
        return await preview_page_response(
            request,
            workflow=workflow,
            draft=latest,
            client=client,
            live=live,
            notice=_STALE,
            status_code=409,
        )
    except InputProblemError as exc:
        return await preview_page_response(
            request,
            workflow=workflow,
            draft=draft,
            client=client,
            live=live,
            extra_problems=tuple(exc.problems),
            status_code=422,
        )
    log.info("report signed (version %d) and queued for the chart", signed.version)
    root = request.scope.get("root_path", "")
    return RedirectResponse(study_url(root, draft.id, "status"), status_code=303)


@signing_router.get("/app/studies/{draft_id}/status")
async def status_page(
    request: Request,
    workflow: WorkflowDep,
    client: ClientDep,
    live: SessionDep,
    draft: OwnedDraftDep,
) -> Response:
    owner = DraftOwner.of_session(live.session)
    history = await workflow.outbox.store.history(owner.iss, owner.patient_id, draft.study_id)
    view = status_view(history)
    root = request.scope.get("root_path", "")
    urls = study_urls(root, draft.id)
    frame = await page_frame(client, live)
    return render(
        request,
        "workflow/status.html",
        {
            **frame.context(),
            "page_title": "Sent to the chart",
            "current_step": Step.STATUS.value,
            "step_links": {step.value: url for step, url in urls.items()},
            "headline": view.headline,
            "versions": view.versions,
            "refresh_seconds": view.refresh_seconds,
            "retry_action": study_url(root, draft.id, "retry"),
        },
    )


@signing_router.post("/app/studies/{draft_id}/retry")
async def retry(
    request: Request,
    workflow: WorkflowDep,
    live: PatientFormDep,
    draft: OwnedDraftDep,
) -> Response:
    form = await form_fields(request)
    owner = DraftOwner.of_session(live.session)
    history = await workflow.outbox.store.history(owner.iss, owner.patient_id, draft.study_id)
    item_id = form.get("item", "")
    if not any(entry.item.id == item_id for entry in history):
        item_id = ""  # not this study's: the store answers "not among this patient's reports"
    # Sent with this session: the one it was signed in may have ended since, and a launch
    # for another patient never takes over this patient's reports.
    await workflow.outbox.store.retry(
        item_id,
        iss=owner.iss,
        patient_id=owner.patient_id,
        user_id=owner.user_id,
        session_ref=workflow.outbox.refs.seal(live.id),
        confirmed_absent=form.get("confirmed_absent") == "yes",
        confirmed_overwrite=form.get("confirmed_overwrite") == "yes",
    )
    workflow.outbox.worker.wake()
    root = request.scope.get("root_path", "")
    return RedirectResponse(study_url(root, draft.id, "status"), status_code=303)
