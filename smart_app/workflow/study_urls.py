"""The workflow's addresses. A study is addressed by its draft's random id only: no patient
data ever goes into a URL."""

from __future__ import annotations

from smart_app.workflow.page_frame import Step

__all__ = ["CANDIDACY_PATH", "DRAFT_ID_PATTERN", "study_url", "study_urls"]

CANDIDACY_PATH = "/app/candidacy"
#: Draft ids are UUIDs; anything else in the path is not one of ours.
DRAFT_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

_PAGES = {
    Step.SETUP: "setup",
    Step.LEVELS: "levels",
    Step.PREVIEW: "preview",
    Step.STATUS: "status",
}


def study_url(root: str, draft_id: str, page: str) -> str:
    return f"{root}/app/studies/{draft_id}/{page}"


def study_urls(root: str, draft_id: str | None) -> dict[Step, str]:
    """The page of each step; the study pages only once there is a study."""
    urls = {Step.CANDIDACY: f"{root}{CANDIDACY_PATH}"}
    if draft_id is not None:
        urls |= {step: study_url(root, draft_id, page) for step, page in _PAGES.items()}
    return urls
