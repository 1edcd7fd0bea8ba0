"""What the clinical workflow pages share, built once per app from the SMART services and the
outbox: the study drafts, signing and the outbox, the saved candidacy assessments, the
candidacy policy and the interpretation rule sets (the site's files when configured)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from plugin.candidacy.policy import Policy
from plugin.candidacy.policy_file import configured_policy
from plugin.interpretation.rule_set import RuleSetLibrary, default_rule_sets
from smart_app.drafts import DraftStore
from smart_app.outbox import OutboxService
from smart_app.services import SmartServices
from smart_app.workflow.candidacy_records import CandidacyRecords

__all__ = ["WorkflowDep", "WorkflowServices", "build_workflow_services", "get_workflow"]


@dataclass(frozen=True, slots=True)
class WorkflowServices:
    drafts: DraftStore
    outbox: OutboxService
    candidacy: CandidacyRecords
    policy: Policy
    library: RuleSetLibrary


def build_workflow_services(services: SmartServices, outbox: OutboxService) -> WorkflowServices:
    """Raises the loaders' errors for an unusable site rule-set or policy file (at start)."""
    settings = services.settings
    library = default_rule_sets().with_site_files(settings.rule_set_files)
    policy = configured_policy(settings.candidacy_policy_file)
    return WorkflowServices(
        drafts=outbox.drafts,  # the very store signing reads, so both see one draft
        outbox=outbox,
        candidacy=CandidacyRecords(services.database, clock=services.clock),
        policy=policy,
        library=library,
    )


def get_workflow(request: Request) -> WorkflowServices:
    workflow: WorkflowServices = request.app.state.workflow
    return workflow


WorkflowDep = Annotated[WorkflowServices, Depends(get_workflow)]
