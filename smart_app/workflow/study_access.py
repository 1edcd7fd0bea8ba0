"""The study a request is about: its draft, found by id under the session's owner (EHR,
patient, user) — a draft of another patient or user is "not found", whatever its id."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends

from smart_app.dependencies import SessionDep
from smart_app.drafts import Draft, DraftNotFoundError, DraftOwner
from smart_app.drafts.errors import RevisionMissingError
from smart_app.workflow.form_fields import form_count
from smart_app.workflow.services import WorkflowDep
from smart_app.workflow.study_urls import DRAFT_ID_PATTERN

__all__ = ["OwnedDraftDep", "owned_draft", "revision_of"]

_DRAFT_ID = re.compile(DRAFT_ID_PATTERN)


async def owned_draft(draft_id: str, live: SessionDep, workflow: WorkflowDep) -> Draft:
    if not _DRAFT_ID.match(draft_id):
        raise DraftNotFoundError()
    return await workflow.drafts.get(DraftOwner.of_session(live.session), draft_id)


OwnedDraftDep = Annotated[Draft, Depends(owned_draft)]


def revision_of(form: dict[str, str], draft: Draft) -> int:
    """The revision the posted form was made from (the page's hidden field). Without a readable
    one the form cannot be checked against the stored draft: RevisionMissingError, which every
    page handles as a changed draft (taking it as the stored revision would sign or overwrite
    a revision the user may not have seen)."""
    posted = form_count(form.get("revision", ""))
    if posted is None:
        raise RevisionMissingError(current=draft.revision)
    return posted
