"""The study setup page: region, discs to inject and which are controls, technique,
indication, and the blinded injection order drawn on the server (to read to the team), which
can be drawn again until the first injection has results."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from plugin.errors import Problem
from plugin.study.levels import DISC_LEVELS, Region, region_of
from plugin.study.model import SHORT_TEXT_MAX_CHARACTERS
from smart_app.dependencies import (
    SessionDep,
    csrf_protect,
    same_patient_form,
    session_fhir_client,
)
from smart_app.drafts import Draft, DraftOwner, DraftState, StaleDraftError
from smart_app.fhir_client import FhirClient
from smart_app.pages import render
from smart_app.session import LiveSession
from smart_app.workflow.blinded_order import order_locked
from smart_app.workflow.draft_saving import StudyNotSavedError, save_draft
from smart_app.workflow.field_targets import field_messages, field_target, summary_items
from smart_app.workflow.form_fields import form_fields
from smart_app.workflow.page_frame import CandidacyReminder, Step, candidacy_reminder, page_frame
from smart_app.workflow.services import WorkflowDep
from smart_app.workflow.setup_form import (
    REGION_FIELD,
    TECHNIQUE_FIELDS,
    SetupResult,
    apply_setup,
    control_field,
    inject_field,
    redraw_order,
    setup_form_values,
)
from smart_app.workflow.study_access import OwnedDraftDep, revision_of
from smart_app.workflow.study_check import check_study
from smart_app.workflow.study_urls import study_url, study_urls

__all__ = ["setup_router"]

setup_router = APIRouter(dependencies=[Depends(csrf_protect)])
ClientDep = Annotated[FhirClient, Depends(session_fhir_client)]
PatientFormDep = Annotated[LiveSession, Depends(same_patient_form)]

_SETUP_PATH = "/app/studies/{draft_id}/setup"
STALE_NOTICE = (
    "This study was changed in another window since this page was loaded. Your choices are "
    "shown below but not saved: save again to keep them, or reload the page to see the other "
    "window's version."
)


def _order_rows(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    levels = [lv for lv in document.get("levels") or [] if isinstance(lv, Mapping)]
    rows = [
        {"order": lv["order"], "level": lv.get("level"), "role": lv.get("role", "suspected")}
        for lv in levels
        if isinstance(lv.get("order"), int)
    ]
    return sorted(rows, key=lambda row: row["order"])


def _region_discs(selected: str | None) -> list[tuple[Region, tuple[str, ...]]]:
    """Each region's discs, the study's region first."""
    groups = [
        (region, tuple(level for level in DISC_LEVELS if region_of(level) is region))
        for region in (Region.LUMBAR, Region.CERVICAL, Region.THORACIC)
    ]
    return sorted(groups, key=lambda group: group[0].value != selected)


async def _prefilled(workflow: WorkflowDep, draft: Draft, values: dict[str, str]) -> None:
    """A study without discs yet starts from the order the candidacy was assessed for."""
    if any(key.startswith("inject-") for key in values):
        return
    record = await workflow.candidacy.get(draft.id)
    if record is None:
        return
    order = record.assessment.order
    if order.region is not None:
        values.setdefault(REGION_FIELD, order.region.value)
    for level in order.levels:
        values[inject_field(level)] = "on"


async def _reminder(
    workflow: WorkflowDep, draft: Draft, values: Mapping[str, str]
) -> CandidacyReminder | None:
    """The cited assessment against the discs ticked on this form (saved or not yet)."""
    record = await workflow.candidacy.get(draft.id)
    raw_region = values.get(REGION_FIELD, "")
    return candidacy_reminder(
        record.assessment if record is not None else None,
        [
            level
            for level in DISC_LEVELS
            if values.get(inject_field(level)) or values.get(control_field(level))
        ],
        region=Region(raw_region) if raw_region in {r.value for r in Region} else None,
        payer_notes=workflow.policy.payer_notes,
    )


async def _setup_page(
    request: Request,
    *,
    workflow: WorkflowDep,
    draft: Draft,
    client: FhirClient,
    live: LiveSession,
    document: Mapping[str, Any],
    values: dict[str, str],
    problems: tuple[Problem, ...],
    revision: int,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    root = request.scope.get("root_path", "")
    urls = study_urls(root, draft.id)
    frame = await page_frame(client, live)
    if draft.state is DraftState.SIGNED and notice is None:
        notice = "This study was signed. Saving a change starts an amendment of the signed report."
    return render(
        request,
        "workflow/setup.html",
        {
            **frame.context(),
            "page_title": "Study setup",
            "current_step": Step.SETUP.value,
            "step_links": {step.value: url for step, url in urls.items()},
            "summary_problems": summary_items(problems, document, Step.SETUP, urls),
            "messages": field_messages(problems, document, Step.SETUP),
            "candidacy": await _reminder(workflow, draft, values),
            "notice": notice,
            "values": values,
            "regions": (Region.LUMBAR, Region.CERVICAL, Region.THORACIC),
            "region_discs": _region_discs(values.get(REGION_FIELD)),
            "region_has_choice": {
                region.value: any(
                    values.get(f"{kind}-{level}")
                    for level in DISC_LEVELS
                    if region_of(level) is region
                    for kind in ("inject", "control")
                )
                for region in Region
            },
            "technique_fields": TECHNIQUE_FIELDS,
            "text_max_length": SHORT_TEXT_MAX_CHARACTERS,
            "order": _order_rows(document),
            "order_locked": order_locked(
                [lv for lv in document.get("levels") or [] if isinstance(lv, Mapping)]
            ),
            "revision": revision,
            "form_action": study_url(root, draft.id, "setup"),
            "reroll_action": study_url(root, draft.id, "setup/order"),
        },
        status_code=status_code,
    )


def _setup_problems(draft: Draft, workflow: WorkflowDep) -> tuple[Problem, ...]:
    """The stored study's problems that this page corrects (an empty study is not yet a
    problem: nothing has been chosen)."""
    if not draft.study.get("levels"):
        return ()
    check = check_study(draft.study, workflow.library)
    return tuple(p for p in check.problems if field_target(p.field, draft.study).step is Step.SETUP)


@setup_router.get(_SETUP_PATH)
async def setup_page(
    request: Request,
    workflow: WorkflowDep,
    draft: OwnedDraftDep,
    client: ClientDep,
    live: SessionDep,
) -> Response:
    values = setup_form_values(draft.study)
    await _prefilled(workflow, draft, values)
    return await _setup_page(
        request,
        workflow=workflow,
        draft=draft,
        client=client,
        live=live,
        document=draft.study,
        values=values,
        problems=_setup_problems(draft, workflow),
        revision=draft.revision,
    )


@setup_router.post(_SETUP_PATH)
async def save_setup(
    request: Request,
    workflow: WorkflowDep,
    client: ClientDep,
    live: PatientFormDep,
    draft: OwnedDraftDep,
) -> Response:
    form = await form_fields(request)
    result = apply_setup(draft.study, form)
    owner = DraftOwner.of_session(live.session)
    try:
        saved = await save_draft(
            workflow.drafts,
            owner,
            draft.id,
            revision=revision_of(form, draft),
            study=result.document,
        )
    except (StaleDraftError, StudyNotSavedError) as refused:
        # The form again with every choice as typed, and why: another window saved first, or
        # the study is too large to store.
        stale = isinstance(refused, StaleDraftError)
        return await _setup_page(
            request,
            workflow=workflow,
            draft=draft,
            client=client,
            live=live,
            document=result.document,
            values=form,
            problems=result.problems,
            revision=refused.current if isinstance(refused, StaleDraftError) else draft.revision,
            notice=STALE_NOTICE if stale else refused.clinician,
            status_code=409 if stale else refused.status_code,
        )
    # This page's own inputs that the study refuses (a 3000-character indication) are
    # corrected here, before moving on to the results.
    problems = result.problems or _setup_problems(saved, workflow)
    if problems:
        return await _setup_page(
            request,
            workflow=workflow,
            draft=saved,
            client=client,
            live=live,
            document=saved.study,
            values=form,
            problems=problems,
            revision=saved.revision,
            status_code=422,
        )
    root = request.scope.get("root_path", "")
    page = "levels" if form.get("action") == "continue" else "setup"
    return RedirectResponse(study_url(root, draft.id, page), status_code=303)


@setup_router.post(_SETUP_PATH + "/order")
async def draw_new_order(
    request: Request,
    workflow: WorkflowDep,
    client: ClientDep,
    live: PatientFormDep,
    draft: OwnedDraftDep,
) -> Response:
    form = await form_fields(request)
    result = redraw_order(draft.study)
    if not result.problems:
        try:
            await save_draft(
                workflow.drafts,
                DraftOwner.of_session(live.session),
                draft.id,
                revision=revision_of(form, draft),
                study=result.document,
            )
        except StaleDraftError:
            result = SetupResult(
                draft.study,
                (
                    Problem(
                        "order",
                        "stale",
                        "the study was changed in another window; no new order was drawn "
                        "(look at the order below before drawing again)",
                    ),
                ),
            )
    if result.problems:
        current = await workflow.drafts.get(DraftOwner.of_session(live.session), draft.id)
        return await _setup_page(
            request,
            workflow=workflow,
            draft=current,
            client=client,
            live=live,
            document=current.study,
            values=setup_form_values(current.study),
            problems=result.problems,
            revision=current.revision,
            status_code=409,
        )
    root = request.scope.get("root_path", "")
    return RedirectResponse(study_url(root, draft.id, "setup") + "#order", status_code=303)
