"""Saving a study draft from a page: the draft store's refusal of a study it cannot hold at
all (not an object, larger than it stores) becomes a page error naming the rule, never a
server error. Validation problems are not refusals: the draft keeps them with the study."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugin.errors import InputProblemError
from smart_app.drafts import Draft, DraftOwner, DraftStore
from smart_app.errors import SmartError

__all__ = ["StudyNotSavedError", "save_draft"]


class StudyNotSavedError(SmartError):
    status_code = 422
    title = "The study could not be saved"


async def save_draft(
    drafts: DraftStore,
    owner: DraftOwner,
    draft_id: str,
    *,
    revision: int,
    study: Mapping[str, Any],
) -> Draft:
    """`DraftStore.save`; StaleDraftError passes through for the page to handle."""
    try:
        return await drafts.save(owner, draft_id, revision=revision, study=study)
    except InputProblemError as exc:
        reasons = "; ".join(str(p) for p in exc.problems)
        raise StudyNotSavedError(
            f"The study was not saved: {reasons}. Shorten what was typed and save again.",
            f"draft store refused the study: {', '.join(p.rule for p in exc.problems)}",
        ) from None
