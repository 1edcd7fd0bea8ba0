"""Saving a study draft from a page: the draft store's refusal of a study it cannot hold at
all (not an object, larger than it stores) becomes a page error naming the rule, never a
server error. Validation problems are not refusals: the draft keeps them with the study.

A page that counts its saves (the results page) names itself: its editor token and the count
of saves it has sent, read from the posted form here, so the store can tell that page's later
state from another window's change."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from plugin.errors import InputProblemError
from smart_app.drafts import Draft, DraftOwner, DraftStore
from smart_app.errors import SmartError
from smart_app.workflow.form_fields import form_count

__all__ = ["PageEditor", "StudyNotSavedError", "page_editor", "save_draft"]

# What the page renders (`secrets.token_urlsafe`) fits; anything else is not a page's token.
_EDITOR = re.compile(r"[A-Za-z0-9_-]{1,64}")


class StudyNotSavedError(SmartError):
    status_code = 422
    title = "The study could not be saved"


@dataclass(frozen=True, slots=True)
class PageEditor:
    """One render of a page (`editor`) and the number of saves it has sent (`sequence`)."""

    editor: str
    sequence: int


def page_editor(form: Mapping[str, str]) -> PageEditor | None:
    """The page that posted `form`, or None when it does not say (or says it wrongly).

    A sequence of 0 is a page that never counted a save — posted without its script — so its
    posts cannot be told apart from one another: they are taken as from no page, as a form
    resubmitted from the browser's history must not pass for an older save arriving late.
    """
    editor, count = form.get("editor", ""), form_count(form.get("sequence", ""))
    if not _EDITOR.fullmatch(editor) or count is None:
        return None
    return PageEditor(editor, count) if count > 0 else None


async def save_draft(
    drafts: DraftStore,
    owner: DraftOwner,
    draft_id: str,
    *,
    revision: int,
    study: Mapping[str, Any],
    editor: PageEditor | None = None,
) -> Draft:
    """`DraftStore.save`; StaleDraftError passes through for the page to handle."""
    try:
        return await drafts.save(
            owner,
            draft_id,
            revision=revision,
            study=study,
            editor=editor.editor if editor else None,
            sequence=editor.sequence if editor else None,
        )
    except InputProblemError as exc:
        reasons = "; ".join(str(p) for p in exc.problems)
        raise StudyNotSavedError(
            f"The study was not saved: {reasons}. Shorten what was typed and save again.",
            f"draft store refused the study: {', '.join(p.rule for p in exc.problems)}",
        ) from None
