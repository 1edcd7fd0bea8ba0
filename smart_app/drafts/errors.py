"""What can go wrong with a draft, in the words of the page that shows it.

    SmartError (smart_app.errors)
    └── DraftError              – a draft cannot be read or saved as asked
        ├── DraftNotFoundError  – no such draft for this patient and user (404)
        ├── StaleDraftError     – saved from an older revision than the stored one (409)
        │   └── RevisionMissingError – the form did not say its revision (409, handled alike)
        └── DraftStateError     – the draft is not in a state that allows this (409)

Messages carry no patient data: they are shown on pages and logged.
"""

from __future__ import annotations

from smart_app.errors import SmartError

__all__ = [
    "DraftError",
    "DraftNotFoundError",
    "DraftStateError",
    "RevisionMissingError",
    "StaleDraftError",
]


class DraftError(SmartError):
    status_code = 409
    title = "The study could not be saved"


class DraftNotFoundError(DraftError):
    status_code = 404
    title = "Study not found"

    def __init__(self) -> None:
        super().__init__(
            "This study is not among your studies for this patient. Open the patient's studies "
            "from the app's start page.",
            "no draft with this id for this EHR, patient and user",
        )


class StaleDraftError(DraftError):
    """A save or sign named revision `submitted`, but the stored draft is at `current`: another
    window (or person) changed it meanwhile. Nothing was overwritten."""

    title = "This study was changed elsewhere"

    def __init__(self, *, submitted: int, current: int) -> None:
        self.submitted: int | None = submitted
        self.current = current
        super().__init__(
            f"This study was changed in another window since you loaded it (you edited revision "
            f"{submitted}; the saved study is now at revision {current}). Nothing was "
            "overwritten: reload the study to see the latest version, then make your change again.",
            f"stale revision: submitted {submitted}, stored {current}",
        )


class RevisionMissingError(StaleDraftError):
    """A save or sign whose form did not say which revision it was made from (the field missing
    or not a whole number): it cannot be checked against the stored draft, so every page treats
    it as a changed draft — nothing is saved or signed, and the user reloads the current one."""

    def __init__(self, *, current: int) -> None:
        self.submitted = None
        self.current = current
        DraftError.__init__(
            self,
            "The app could not tell which version of this study your form was made from, so "
            "nothing was saved or signed. Reload the study to see the latest version, then "
            "make your change again.",
            f"form field `revision` missing or not a whole number; stored {current}",
        )


class DraftStateError(DraftError):
    def __init__(self, clinician: str, detail: str) -> None:
        super().__init__(clinician, detail)
