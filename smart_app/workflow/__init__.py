"""The clinician's pages for a discography study, in the order of the procedure: candidacy
(with the attestations), study setup (with the blinded injection order), results entry (with
the interpretation as values arrive), report preview, signing, and the write-back status."""

from smart_app.workflow.router import workflow_router
from smart_app.workflow.services import WorkflowServices, build_workflow_services

__all__ = ["WorkflowServices", "build_workflow_services", "workflow_router"]
