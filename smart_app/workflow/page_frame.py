"""What every workflow page shows around its content — the patient banner (when the EHR asks
for it), who is signed in, the EHR's style, the step the clinician is at — and the form fields
every form carries (CSRF token, patient).

A banner that cannot be read (a refused or failed Patient read, a session that can no longer
reach the EHR) is replaced by a warning: the study pages work from the server-side draft, so
a lost connection to the EHR never keeps the clinician from the values they typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from smart_app.banner import PatientBanner, patient_banner
from smart_app.errors import PatientMismatchError, SmartError
from smart_app.fhir_client import FhirClient
from smart_app.fhir_errors import FhirError
from smart_app.session import LiveSession

__all__ = ["STEPS", "PageFrame", "Step", "page_frame"]


class Step(StrEnum):
    CANDIDACY = "candidacy"
    SETUP = "setup"
    LEVELS = "levels"
    PREVIEW = "preview"
    STATUS = "status"


#: The steps in the order of the procedure, with the words the navigation shows.
STEPS: tuple[tuple[Step, str], ...] = (
    (Step.CANDIDACY, "Candidacy"),
    (Step.SETUP, "Study setup"),
    (Step.LEVELS, "Results"),
    (Step.PREVIEW, "Preview and sign"),
    (Step.STATUS, "Sent to the chart"),
)


@dataclass(frozen=True, slots=True)
class PageFrame:
    show_banner: bool
    banner: PatientBanner | None
    banner_problem: str | None
    user_name: str | None
    ehr_name: str
    csrf_token: str
    patient_id: str
    has_style: bool

    def context(self) -> dict[str, Any]:
        return {
            "show_banner": self.show_banner,
            "banner": self.banner,
            "banner_problem": self.banner_problem,
            "user_name": self.user_name,
            "ehr_name": self.ehr_name,
            "csrf_token": self.csrf_token,
            "patient_id": self.patient_id,
            "has_style": self.has_style,
            "steps": STEPS,
        }


async def _banner(client: FhirClient, live: LiveSession) -> tuple[PatientBanner | None, str | None]:
    if not live.session.granted.can_read("Patient"):
        return None, "the EHR did not grant permission to read Patient."
    try:
        resource = await client.read("Patient", live.session.patient)
    except FhirError as exc:
        return None, exc.user_message
    except SmartError as exc:  # the session can no longer reach the EHR (expired, refused)
        return None, exc.clinician
    banner = patient_banner(resource)
    if banner.id != live.session.patient:
        raise PatientMismatchError(
            "The EHR returned a different patient than the one this session is for, so the app "
            "shows nothing. Close this window, reopen the app from the patient's chart, and "
            "tell the EHR's integration team.",
            "Patient read returned a resource whose id differs from the token's patient",
        )
    return banner, None


async def page_frame(client: FhirClient, live: LiveSession) -> PageFrame:
    session = live.session
    banner: PatientBanner | None = None
    problem: str | None = None
    if session.need_patient_banner:
        banner, problem = await _banner(client, live)
    return PageFrame(
        show_banner=session.need_patient_banner,
        banner=banner,
        banner_problem=problem,
        user_name=session.user_name,
        ehr_name=session.ehr_name,
        csrf_token=session.csrf_token.get_secret_value(),
        patient_id=session.patient,
        has_style=bool(session.style),
    )
