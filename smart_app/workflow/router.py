"""The clinical workflow's pages as one router, mounted by `smart_app.app.create_app`."""

from __future__ import annotations

from fastapi import APIRouter

from smart_app.workflow.candidacy_routes import candidacy_router
from smart_app.workflow.entry_routes import entry_router
from smart_app.workflow.report_routes import report_router
from smart_app.workflow.setup_routes import setup_router
from smart_app.workflow.signing_routes import signing_router

__all__ = ["workflow_router"]

workflow_router = APIRouter()
for _router in (candidacy_router, setup_router, entry_router, report_router, signing_router):
    workflow_router.include_router(_router)
