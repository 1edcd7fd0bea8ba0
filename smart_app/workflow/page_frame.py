"""What every workflow page shows around its content — the patient banner (when the EHR asks
for it), who is signed in, the EHR's style, the step the clinician is at, the candidacy
assessment the study cites (on the study's pages) — and the form fields every form carries
(CSRF token, patient).

A banner that cannot be read (a refused or failed Patient read, a session that can no longer
reach the EHR) is replaced by a warning: the study pages work from the server-side draft, so
a lost connection to the EHR never keeps the clinician from the values they typed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from plugin.candidacy.assessment import Assessment, Outcome, SafetyKind
from plugin.candidacy.policy import PayerNote, Severity
from plugin.study.levels import Region, is_disc_level, level_index
from smart_app.banner import PatientBanner, patient_banner
from smart_app.errors import PatientMismatchError, SmartError
from smart_app.fhir_client import FhirClient
from smart_app.fhir_errors import FhirError
from smart_app.session import LiveSession
from smart_app.workflow.candidacy_words import OUTCOME_WORDS, SEVERITY_WORDS

__all__ = [
    "STEPS",
    "CandidacyReminder",
    "PageFrame",
    "Step",
    "candidacy_reminder",
    "fused_levels",
    "page_frame",
]


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


@dataclass(frozen=True, slots=True)
class CandidacyReminder:
    """The candidacy assessment the study cites, repeated where the procedure is decided:
    it informs, it never blocks (the physician decides)."""

    assessed_on: str
    outcome: str  # "not a candidate"
    attention: bool  # anything but "candidate": shown as a warning
    summary: str
    safety: tuple[str, ...]  # open items (contraindications, actions), each in one line
    fused_injected: tuple[str, ...]  # a disc set up to be injected that the chart says is fused
    payer_notes: tuple[str, ...]

    @property
    def warnings(self) -> tuple[str, ...]:
        """What to look at again before signing."""
        outcome = (
            (f"The candidacy assessment of {self.assessed_on} says: {self.summary}",)
            if self.attention
            else ()
        )
        return (*outcome, *self.fused_injected, *self.safety)


def fused_levels(assessment: Assessment) -> dict[str, str]:
    """Disc → the title of the safety item that records it as fused (the fused levels are
    the value of the item's first evidence, the fusion record: "L4-L5, L5-S1")."""
    fused: dict[str, str] = {}
    for item in assessment.safety:
        if item.kind is not SafetyKind.PRIOR_FUSION or not item.evidence:
            continue
        for level in (item.evidence[0].value or "").split(","):
            if is_disc_level(level.strip()):
                fused.setdefault(level.strip(), item.title)
    return fused


def candidacy_reminder(
    assessment: Assessment | None,
    injected: Iterable[str],
    *,
    region: Region | None = None,
    payer_notes: Iterable[PayerNote] = (),
) -> CandidacyReminder | None:
    """The reminder for a study injecting `injected`. Payer notes (the policy's, which say
    the regions they are about) only for the study's `region`, when known: a note about
    cervical discography means nothing to a lumbar study."""
    if assessment is None:
        return None
    safety = tuple(
        f"{SEVERITY_WORDS[item.severity]}: {item.title}."
        + (f" {item.action}" if item.action else "")
        for item in assessment.safety
        if item.severity is not Severity.INFO
    )
    fused = fused_levels(assessment)
    chosen = sorted({level for level in injected if level in fused}, key=level_index)
    fused_injected = tuple(
        f"{level} is set up to be injected, but the candidacy assessment records it as fused "
        f"({fused[level]}): a fused disc cannot be injected."
        for level in chosen
    )
    notes = tuple(
        note.text for note in payer_notes if region is not None and region in note.regions
    )
    return CandidacyReminder(
        assessed_on=assessment.today.isoformat(),
        outcome=OUTCOME_WORDS[assessment.outcome],
        attention=assessment.outcome is not Outcome.CANDIDATE,
        summary=assessment.summary,
        safety=safety,
        fused_injected=fused_injected,
        payer_notes=notes,
    )
