"""Whose draft it is: the EHR (`iss`), the patient and the user, as one SMART session knows
them. Drafts are only ever read and written under their owner."""

from __future__ import annotations

from dataclasses import dataclass

from smart_app.session import SmartSession

__all__ = ["UNIDENTIFIED_USER", "DraftOwner"]

#: The user of a session whose EHR did not say who signed in (no `fhirUser` granted).
UNIDENTIFIED_USER = "unidentified-user"


@dataclass(frozen=True, slots=True)
class DraftOwner:
    iss: str
    patient_id: str
    user_id: str

    @classmethod
    def of_session(cls, session: SmartSession) -> DraftOwner:
        """The owner of the drafts made in a session: its EHR, its patient, and its user by
        their FHIR reference (`fhirUser`)."""
        return cls(
            iss=session.iss.rstrip("/"),
            patient_id=session.patient,
            user_id=session.fhir_user or UNIDENTIFIED_USER,
        )

    @property
    def patient_reference(self) -> str:
        return f"Patient/{self.patient_id}"
