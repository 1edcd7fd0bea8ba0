"""Which saves of a draft may be written: the rule that tells a later state of the same page
from another window's change.

Each render of the results page is an editor (a random token) counting the saves it sends
(its sequence). A save names the revision its page last heard of; when the stored draft has
moved on since, the save is still that page's own later state if the page made the stored
revision itself with a lower count — a save sent while leaving the page, arriving after (or
before) the save still under way. Anything else that moved on is another window's change and
is never overwritten silently.
"""

from __future__ import annotations

from enum import Enum

from smart_app.drafts.model import Draft, DraftState

__all__ = ["SaveVerdict", "save_verdict"]


class SaveVerdict(Enum):
    NEXT = "next"  # made from the stored revision: written as its next one
    LATER_STATE = "later-state"  # the same page's later state: written over its earlier one
    ARRIVED_LATE = "arrived-late"  # the same page's older save: nothing to write
    STALE = "stale"  # another window, no page, or a signature since: refused


def save_verdict(
    stored: Draft, *, revision: int, editor: str | None, sequence: int | None
) -> SaveVerdict:
    if stored.revision == revision:
        return SaveVerdict.NEXT
    if (
        editor is None
        or sequence is None
        or stored.state is not DraftState.EDITING
        or stored.editor != editor
        or stored.editor_sequence is None
    ):
        return SaveVerdict.STALE
    if sequence > stored.editor_sequence:
        return SaveVerdict.LATER_STATE
    return SaveVerdict.ARRIVED_LATE
