"""Server-side drafts of discography studies, one per (EHR, patient, user, study), saved on
every change with a revision number and optimistic concurrency."""

from smart_app.drafts.errors import (
    DraftError,
    DraftNotFoundError,
    DraftStateError,
    StaleDraftError,
)
from smart_app.drafts.model import Draft, DraftState
from smart_app.drafts.owner import UNIDENTIFIED_USER, DraftOwner
from smart_app.drafts.store import DraftStore, new_study_id

__all__ = [
    "UNIDENTIFIED_USER",
    "Draft",
    "DraftError",
    "DraftNotFoundError",
    "DraftOwner",
    "DraftState",
    "DraftStateError",
    "DraftStore",
    "StaleDraftError",
    "new_study_id",
]
