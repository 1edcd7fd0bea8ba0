"""The patient's studies as the candidacy page lists them, so a relaunched app finds its way
back: each study of this patient the signed-in user works on — in progress (to continue), or
signed (with what became of its latest version in the chart, and an amendment to start).

Pure: the user's drafts and the patient's outbox items come in; words and links go out. Only
draft ids go into the links (`study_urls`): no patient data in a URL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from smart_app.drafts import Draft, DraftState
from smart_app.outbox import OutboxItem
from smart_app.workflow.study_urls import study_url

__all__ = ["StudyEntry", "study_entries"]


@dataclass(frozen=True, slots=True)
class StudyEntry:
    draft_id: str
    discs: str  # what was injected (or that it is not set up yet)
    state_words: str
    changed: str  # when the user last changed (or signed) it
    write_status: str | None  # the latest signed version and where it is (signed studies)
    continue_url: str | None  # a study being written: its next page
    status_url: str | None  # a study with a signed version: the status page, every version
    amend_url: str | None  # a signed study: the post that starts its amendment


def _time(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _discs(draft: Draft) -> str:
    levels = draft.study.get("levels")
    names = [
        str(level["level"])
        for level in (levels if isinstance(levels, list) else [])
        if isinstance(level, dict) and level.get("level")
    ]
    return f"Discs {', '.join(names)}" if names else "Discs not chosen yet"


def _state_words(draft: Draft) -> str:
    if draft.state is DraftState.SIGNED:
        return f"Signed (version {draft.signed_version})"
    if draft.based_on_version is not None:
        return f"Amendment of version {draft.based_on_version} in progress, not signed yet"
    return "In progress, not signed yet"


def _latest_items(items: Iterable[OutboxItem]) -> dict[str, OutboxItem]:
    latest: dict[str, OutboxItem] = {}
    for item in items:
        known = latest.get(item.study_key)
        if known is None or item.version > known.version:
            latest[item.study_key] = item
    return latest


def study_entries(
    drafts: Sequence[Draft], items: Iterable[OutboxItem], root: str
) -> tuple[StudyEntry, ...]:
    """The entries of `drafts` (one user's, for one patient, most recently changed first);
    `items` are the patient's outbox items, of any user (a colleague may have signed a later
    version of the same study)."""
    latest = _latest_items(items)
    entries = []
    for draft in drafts:
        item = latest.get(draft.study_id)
        signed = draft.state is DraftState.SIGNED
        editing_page = "levels" if draft.study.get("levels") else "setup"
        entries.append(
            StudyEntry(
                draft_id=draft.id,
                discs=_discs(draft),
                state_words=_state_words(draft),
                changed=_time(draft.updated_at),
                write_status=(
                    f"Version {item.version}: {item.state.description}"
                    if item is not None
                    else None
                ),
                continue_url=None if signed else study_url(root, draft.id, editing_page),
                status_url=study_url(root, draft.id, "status") if item is not None else None,
                amend_url=study_url(root, draft.id, "amend") if signed else None,
            )
        )
    return tuple(entries)
