"""The report preview: the page (the report in a frame, the PDF, the signing form) and the
report itself at its own address — the exact HTML of `render_report`, served with a policy of
its own that allows only its inline styles (no script, no other resource)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from plugin.errors import InputProblemError, Problem
from plugin.report.rendered import RenderedReport
from plugin.study.validation import performed_problems
from smart_app.dependencies import (
    ServicesDep,
    SessionDep,
    csrf_protect,
    get_services,
    session_fhir_client,
)
from smart_app.drafts import Draft, DraftState
from smart_app.fhir_client import FhirClient
from smart_app.pages import render
from smart_app.security import frame_ancestor_origins
from smart_app.session import LiveSession
from smart_app.workflow.entry_view import injected_levels
from smart_app.workflow.field_targets import SummaryItem, field_target, summary_items
from smart_app.workflow.page_frame import Step, candidacy_reminder, page_frame
from smart_app.workflow.report_preview import preview_issued, preview_report
from smart_app.workflow.services import WorkflowDep, WorkflowServices
from smart_app.workflow.study_access import OwnedDraftDep
from smart_app.workflow.study_check import check_study
from smart_app.workflow.study_urls import study_url, study_urls
from smart_app.workflow.write_back_permission import write_permission

__all__ = ["PREVIEW_PATH", "preview_page_response", "report_policy", "report_router"]

report_router = APIRouter(dependencies=[Depends(csrf_protect)])
ClientDep = Annotated[FhirClient, Depends(session_fhir_client)]

PREVIEW_PATH = "/app/studies/{draft_id}/preview"


def report_policy(frame_ancestors: list[str]) -> str:
    """The report's own Content-Security-Policy: its inline `<style>` and inline SVG, nothing
    else — no script, no fetch, no form — framed only by our pages (inside the EHR's)."""
    ancestors = " ".join(["'self'", *frame_ancestors])
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"frame-ancestors {ancestors}; base-uri 'none'; form-action 'none'"
    )


async def _rendered(
    workflow: WorkflowServices, draft: Draft
) -> tuple[RenderedReport | None, tuple[Problem, ...]]:
    record = await workflow.candidacy.get(draft.id)
    try:
        rendered = await run_in_threadpool(
            preview_report,
            draft.study,
            issued=preview_issued(draft.updated_at),
            candidacy_summary=record.summary if record is not None else None,
            library=workflow.library,
        )
    except InputProblemError as exc:
        return None, tuple(exc.problems)
    return rendered, ()


async def preview_page_response(
    request: Request,
    *,
    workflow: WorkflowServices,
    draft: Draft,
    client: FhirClient,
    live: LiveSession,
    messages: dict[str, str] | None = None,
    notice: str | None = None,
    extra_problems: tuple[Problem, ...] = (),
    status_code: int = 200,
) -> Response:
    """The preview page; also what a refused signing shows again, with its reasons."""
    root = request.scope.get("root_path", "")
    urls = study_urls(root, draft.id)
    now = datetime.fromtimestamp(get_services(request).clock(), UTC)
    problems = _with_calendar_problems(tuple(draft.problems) + extra_problems, draft, now)
    check = check_study(draft.study, workflow.library, now=now)
    record = await workflow.candidacy.get(draft.id)
    reminder = candidacy_reminder(
        record.assessment if record is not None else None, injected_levels(draft.study)
    )
    # Warnings inform, they do not block: repeated beside the button, where the physician decides.
    sign_warnings = [
        *(reminder.warnings if reminder is not None else ()),
        *(f"{field_target(w.field, draft.study).label}: {w.message}" for w in check.warnings),
    ]
    permission = write_permission(live.session)
    reasons: list[str] = []
    if not permission.allowed:
        reasons.extend(permission.reasons)
    if problems:
        reasons.append("The study has problems to correct first (listed at the top).")
    frame = await page_frame(client, live)
    signed = draft.state is DraftState.SIGNED
    return render(
        request,
        "workflow/preview.html",
        {
            **frame.context(),
            "page_title": "Preview and sign",
            "current_step": Step.PREVIEW.value,
            "step_links": {step.value: url for step, url in urls.items()},
            "summary_problems": [
                *summary_items(problems, draft.study, Step.PREVIEW, urls),
                *_form_summary(messages or {}),
            ],
            "notice": notice,
            "candidacy": reminder,
            "sign_warnings": sign_warnings,
            "messages": messages or {},
            "report_ready": not problems,
            "html_url": f"{study_url(root, draft.id, 'preview.html')}?revision={draft.revision}",
            "pdf_url": f"{study_url(root, draft.id, 'report.pdf')}?revision={draft.revision}",
            "sign_action": study_url(root, draft.id, "sign"),
            "sign_reasons": reasons,
            "write_notes": permission.reasons if permission.allowed else (),
            "signed_version": draft.signed_version if signed else None,
            "revision": draft.revision,
        },
        status_code=status_code,
    )


#: The signing form's own inputs, named in the error summary as they are on the page.
_SIGN_FORM_LABELS = {"confirm": "Confirmation"}


def _form_summary(messages: dict[str, str]) -> list[SummaryItem]:
    """The signing form's messages in the error summary too, each linking to its input: the
    summary is what the page's script focuses and a screen reader announces (as on every
    other page), the message at the input says it where the box is."""
    return [
        SummaryItem(_SIGN_FORM_LABELS.get(input_id, input_id), message, f"#{input_id}")
        for input_id, message in messages.items()
    ]


def _with_calendar_problems(
    problems: tuple[Problem, ...], draft: Draft, now: datetime
) -> tuple[Problem, ...]:
    """The draft's problems plus a procedure date after `now` (the draft store checks the
    study without a clock; the date is judged against the time the page is shown)."""
    known = {(p.field, p.rule) for p in problems}
    late = performed_problems(draft.study.get("performed"), now=now)
    return problems + tuple(p for p in late if (p.field, p.rule) not in known)


@report_router.get(PREVIEW_PATH)
async def preview_page(
    request: Request,
    workflow: WorkflowDep,
    draft: OwnedDraftDep,
    client: ClientDep,
    live: SessionDep,
) -> Response:
    return await preview_page_response(
        request, workflow=workflow, draft=draft, client=client, live=live
    )


def _not_ready(problems: tuple[Problem, ...]) -> Response:
    # Plain text: this address is for the frame and the download, not a page of its own.
    lines = "\n".join(f"- {p}" for p in problems)
    return Response(
        f"The report cannot be rendered yet:\n{lines}\n",
        status_code=409,
        media_type="text/plain; charset=utf-8",
    )


@report_router.get(PREVIEW_PATH + ".html")
async def preview_html(
    services: ServicesDep, workflow: WorkflowDep, draft: OwnedDraftDep
) -> Response:
    rendered, problems = await _rendered(workflow, draft)
    if rendered is None:
        return _not_ready(problems)
    policy = report_policy(frame_ancestor_origins(services.settings))
    return HTMLResponse(rendered.html, headers={"Content-Security-Policy": policy})


@report_router.get("/app/studies/{draft_id}/report.pdf")
async def report_pdf(workflow: WorkflowDep, draft: OwnedDraftDep) -> Response:
    rendered, problems = await _rendered(workflow, draft)
    if rendered is None:
        return _not_ready(problems)
    return Response(
        rendered.pdf,
        media_type="application/pdf",
        # A fixed file name: the patient's name never goes into a header or a URL.
        headers={"Content-Disposition": 'attachment; filename="discography-report.pdf"'},
    )
