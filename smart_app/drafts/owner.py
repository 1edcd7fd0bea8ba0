"""Whose draft it is: the EHR (`iss`), the patient and the user, as one SMART session knows
them. Drafts are only ever read and written under their owner, and a session whose EHR did not
say who signed in (no `fhirUser`) owns none: it may not create, open or sign a draft."""

from __future__ import annotations

from dataclasses import dataclass

from smart_app.errors import UnidentifiedUserError
from smart_app.session import SmartSession

__all__ = ["UNIDENTIFIED_USER", "DraftOwner"]

#: The owner id that sessions without `fhirUser` once shared (so one clinician saw another's
#: drafts). No longer given to anyone; drafts stored under it stay unreachable.
UNIDENTIFIED_USER = "unidentified-user"


@dataclass(frozen=True, slots=True)
class DraftOwner:
    iss: str
    patient_id: str
    user_id: str

    @classmethod
    def of_session(cls, session: SmartSession) -> DraftOwner:
        """The owner of the drafts made in a session: its EHR, its patient, and its user by
        their FHIR reference (`fhirUser`). UnidentifiedUserError (a page) without `fhirUser`."""
        owner = cls.of_identified_session(session)
        if owner is None:
            raise UnidentifiedUserError()
        return owner

    @classmethod
    def of_identified_session(cls, session: SmartSession) -> DraftOwner | None:
        """As `of_session`, or None when the EHR did not say who signed in — for read-only
        callers (a page that lists the user's drafts has none to list)."""
        if not session.fhir_user:
            return None
        return cls(
            iss=session.iss.rstrip("/"),
            patient_id=session.patient,
            user_id=session.fhir_user,
        )

    @property
    def patient_reference(self) -> str:
        return f"Patient/{self.patient_id}"
