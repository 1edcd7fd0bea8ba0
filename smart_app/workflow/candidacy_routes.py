"""The candidacy page, shown first after launch: the chart read through the session's FHIR
client, assessed by the candidacy engine under the policy, with each criterion's evidence, the
safety items, the attestations to give (the report names who gave them, and when), and this
patient's studies of the signed-in user — to continue one, see where a signed one is in the
chart, or amend it. Saving the assessment starts (or updates) the study in progress; the
saved assessment is the one the report's indication cites."""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from plugin.candidacy.assessment import Assessment
from plugin.candidacy.chart import chart_from_resources
from plugin.candidacy.engine import assess_candidacy
from plugin.candidacy.order import order_in_chart
from plugin.errors import InputProblemError
from smart_app.banner import human_name
from smart_app.clock import site_day
from smart_app.dependencies import (
    ServicesDep,
    SessionDep,
    csrf_protect,
    same_patient_form,
    session_fhir_client,
)
from smart_app.drafts import Draft, DraftOwner, DraftState, DraftStateError, StaleDraftError
from smart_app.fhir_client import FhirClient
from smart_app.pages import render
from smart_app.session import LiveSession
from smart_app.workflow.candidacy_attesters import (
    GivenAttestation,
    attester_of,
    given_attestations,
)
from smart_app.workflow.candidacy_citation import cite_assessment
from smart_app.workflow.candidacy_records import CandidacyRecord
from smart_app.workflow.candidacy_studies import study_entries
from smart_app.workflow.candidacy_words import CRITERION_WORDS, OUTCOME_WORDS, SEVERITY_WORDS
from smart_app.workflow.chart_reading import ChartGap, read_chart
from smart_app.workflow.draft_order import OrderFound, draft_order_reference, read_draft_order
from smart_app.workflow.draft_saving import save_draft
from smart_app.workflow.form_fields import form_fields
from smart_app.workflow.page_frame import Step, page_frame
from smart_app.workflow.services import WorkflowDep, WorkflowServices
from smart_app.workflow.study_access import OwnedDraftDep
from smart_app.workflow.study_document import new_study_document, with_citation
from smart_app.workflow.study_urls import CANDIDACY_PATH, study_url, study_urls

__all__ = ["ATTESTATION_FIELD_PREFIX", "candidacy_router"]

log = logging.getLogger(__name__)

ATTESTATION_FIELD_PREFIX = "attest-"

candidacy_router = APIRouter(dependencies=[Depends(csrf_protect)])
ClientDep = Annotated[FhirClient, Depends(session_fhir_client)]
PatientFormDep = Annotated[LiveSession, Depends(same_patient_form)]


def _today(services: ServicesDep) -> date:
    return site_day(services.clock, services.settings.zone)


async def _assess(
    client: FhirClient,
    live: LiveSession,
    workflow: WorkflowServices,
    *,
    today: date,
    attestations: tuple[str, ...],
) -> tuple[Assessment, tuple[ChartGap, ...], OrderFound, str | None]:
    session = live.session
    reading = await read_chart(
        client,
        patient_id=session.patient,
        access=session.granted,
        policy=workflow.policy,
        today=today,
    )
    gaps = list(reading.gaps)
    try:
        chart = chart_from_resources(reading.resources)
    except InputProblemError as exc:
        # A server's answer the engine cannot read: assess on nothing rather than fail.
        gaps.append(ChartGap("chart", f"could not be used: {exc}"))
        chart = chart_from_resources([])
    found = OrderFound(None, "no order named")
    reference = draft_order_reference(session)
    if reference is not None:
        found = await read_draft_order(client, reference)
    if found.order is None:
        try:
            in_chart = order_in_chart(chart)
        except InputProblemError:
            in_chart = None
        if in_chart is not None:
            found = OrderFound(in_chart, "the open discography order in the chart", found.problem)
    assessment = assess_candidacy(
        chart,
        today=today,
        order=found.order,
        attestations=attestations,
        policy=workflow.policy,
    )
    patient = chart.patient
    name = human_name(patient.get("name")) if patient is not None else None
    return assessment, tuple(gaps), found, name


def _differs(saved: Assessment, fresh: Assessment) -> bool:
    def statuses(a: Assessment) -> tuple[Any, ...]:
        return (
            a.outcome,
            a.policy,
            tuple((c.id, c.status) for c in a.criteria),
            tuple((s.id, s.severity) for s in a.safety),
        )

    return statuses(saved) != statuses(fresh)


@candidacy_router.get(CANDIDACY_PATH)
async def candidacy_page(
    request: Request,
    services: ServicesDep,
    workflow: WorkflowDep,
    live: SessionDep,
    client: ClientDep,
) -> Response:
    # A user the EHR did not identify sees the check but has no studies (no drafts without a
    # user identity); the page says why instead of offering to save.
    owner = DraftOwner.of_identified_session(live.session)
    draft = await workflow.drafts.resume(owner) if owner is not None else None
    record = await workflow.candidacy.get(draft.id) if draft is not None else None
    given = record.assessment.attestations if record is not None else ()
    assessment, gaps, found, _name = await _assess(
        client, live, workflow, today=_today(services), attestations=given
    )
    saved_notice = None
    if record is not None and _differs(record.assessment, assessment):
        saved_notice = (
            "The chart has changed since the assessment saved with the study in progress "
            f"(saved: {OUTCOME_WORDS[record.assessment.outcome.value]}, now: "
            f"{OUTCOME_WORDS[assessment.outcome.value]}). Save again to cite the current one."
        )
    frame = await page_frame(client, live)
    root = request.scope.get("root_path", "")
    urls = study_urls(root, draft.id if draft else None)
    studies = (
        study_entries(
            await workflow.drafts.drafts(owner),
            await workflow.outbox.store.items_for_patient(owner.iss, owner.patient_id),
            root,
        )
        if owner is not None
        else []
    )
    return render(
        request,
        "workflow/candidacy.html",
        {
            **frame.context(),
            "page_title": "Candidacy for discography",
            "current_step": Step.CANDIDACY.value,
            "step_links": {step.value: url for step, url in urls.items()},
            "assessment": assessment,
            "gaps": gaps,
            "order_source": _order_words(found),
            "saved_notice": saved_notice,
            "attestations": workflow.policy.attestations,
            "given": set(given),
            "attested_by": {g.id: g for g in record.attested} if record is not None else {},
            "studies": studies,
            "identified": owner is not None,
            "in_progress": draft is not None,
            "outcome_words": OUTCOME_WORDS,
            "criterion_words": CRITERION_WORDS,
            "severity_words": SEVERITY_WORDS,
        },
    )


def _order_words(found: OrderFound) -> str | None:
    if found.order is not None:
        return f"from {found.source}"
    if found.problem is not None:
        return f"{found.source} was not used: {found.problem}"
    return None


async def _save_citing(
    workflow: WorkflowServices,
    owner: DraftOwner,
    live: LiveSession,
    draft: Draft | None,
    assessment: Assessment,
    gaps: tuple[ChartGap, ...],
    attested: tuple[GivenAttestation, ...],
    patient_name: str | None,
) -> Draft:
    """The study in progress `draft` (or a new one) with its indication citing
    `assessment`."""
    citation = cite_assessment(assessment, workflow.policy, gaps, attested)
    if draft is None:
        document = new_study_document(live.session, citation, patient_name)
        draft = await workflow.drafts.create(owner, document)
    else:
        for _attempt in range(3):
            # Only the indication's citation changes: merged into the latest revision, so an
            # edit saved from another window in between is kept, not overwritten.
            try:
                study = with_citation(draft.study, citation)
                draft = await save_draft(
                    workflow.drafts, owner, draft.id, revision=draft.revision, study=study
                )
                break
            except StaleDraftError:
                draft = await workflow.drafts.get(owner, draft.id)
        else:
            raise StaleDraftError(submitted=draft.revision, current=draft.revision + 1)
    await workflow.candidacy.save(draft.id, assessment, gaps, citation, attested)
    return draft


@candidacy_router.post(CANDIDACY_PATH)
async def save_candidacy(
    request: Request,
    services: ServicesDep,
    workflow: WorkflowDep,
    live: PatientFormDep,
    client: ClientDep,
) -> Response:
    form = await form_fields(request)
    known = {a.id for a in workflow.policy.attestations}
    given = tuple(
        sorted(
            name.removeprefix(ATTESTATION_FIELD_PREFIX)
            for name, value in form.items()
            if name.startswith(ATTESTATION_FIELD_PREFIX)
            and value
            and name.removeprefix(ATTESTATION_FIELD_PREFIX) in known
        )
    )
    assessment, gaps, _found, patient_name = await _assess(
        client, live, workflow, today=_today(services), attestations=given
    )
    owner = DraftOwner.of_session(live.session)
    draft = await workflow.drafts.resume(owner)
    record = await workflow.candidacy.get(draft.id) if draft is not None else None
    attested = given_attestations(
        assessment.attestations,
        await attester_of(client, live.session),
        services.clock(),
        _earlier(record),
        services.settings.zone,
    )
    draft = await _save_citing(
        workflow, owner, live, draft, assessment, gaps, attested, patient_name
    )
    log.info("candidacy assessment saved with a study draft (outcome %s)", assessment.outcome.value)
    root = request.scope.get("root_path", "")
    target = (
        study_url(root, draft.id, "setup")
        if form.get("action") == "continue"
        else f"{root}{CANDIDACY_PATH}"
    )
    return RedirectResponse(target, status_code=303)


def _earlier(record: CandidacyRecord | None) -> tuple[GivenAttestation, ...]:
    return record.attested if record is not None else ()


@candidacy_router.post("/app/studies/{draft_id}/amend")
async def amend_study(
    request: Request,
    workflow: WorkflowDep,
    live: PatientFormDep,
    draft: OwnedDraftDep,
) -> Response:
    """Start the amendment of a signed study: the next version, from its latest signed one
    (whoever signed it), opened on the results page. The signed versions stay as they are;
    signing the amendment writes a new version to the chart."""
    if draft.state is DraftState.SIGNED:
        owner = DraftOwner.of_session(live.session)
        try:
            draft = await workflow.drafts.amend(owner, draft.study_id)
            log.info("amendment started (of signed version %s)", draft.based_on_version)
        except DraftStateError:
            # Another post started it at the same moment (a double click): when what it
            # started is the amendment now being edited, this one opens it too.
            draft = await workflow.drafts.get(owner, draft.id)
            if not (draft.state is DraftState.EDITING and draft.amendment):
                raise
    # A study already being edited (a second click, another window) opens as it is.
    root = request.scope.get("root_path", "")
    return RedirectResponse(study_url(root, draft.id, "levels"), status_code=303)
