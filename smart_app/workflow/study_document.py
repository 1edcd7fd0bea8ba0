"""The study document a draft starts from and how the candidacy citation enters it.

The document is the study JSON the draft stores (valid or not yet): the patient, the visit and
the signed-in clinician come from the SMART session; the indication carries the candidacy
criteria met and the chart records behind them. The physician's own indication text is never
touched by a new assessment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugin.fhir_mapping.references import referenced_type
from smart_app.session import SmartSession
from smart_app.workflow.candidacy_citation import CandidacyCitation

__all__ = ["new_study_document", "performer_reference", "with_citation"]

_PERFORMER_TYPES = frozenset({"Practitioner", "PractitionerRole"})


def performer_reference(session: SmartSession) -> dict[str, str] | None:
    """The signed-in clinician as the study's performer, when the EHR named a Practitioner
    (a reference on the EHR's own server is made relative, as the chart expects)."""
    user = session.fhir_user
    if not user or referenced_type(user) not in _PERFORMER_TYPES:
        return None
    base = session.iss.rstrip("/") + "/"
    reference = user[len(base) :] if user.startswith(base) else user
    performer = {"reference": reference}
    if session.user_name:
        performer["display"] = session.user_name
    return performer


def with_citation(document: Mapping[str, Any], citation: CandidacyCitation) -> dict[str, Any]:
    """The document with the indication citing this assessment (its own text kept)."""
    updated = dict(document)
    current = document.get("indication")
    indication = dict(current) if isinstance(current, Mapping) else {}
    if isinstance(current, str):  # the short form of study JSON: the text alone
        indication = {"text": current}
    indication["criteria_met"] = list(citation.criteria_met)
    indication["reason_references"] = list(citation.reason_references)
    updated["indication"] = indication
    return updated


def new_study_document(
    session: SmartSession, citation: CandidacyCitation, patient_name: str | None = None
) -> dict[str, Any]:
    """A new study of the session's patient; `patient_name` (as the chart gives it) lets the
    report name the patient, not only their id."""
    patient: dict[str, str] = {"reference": f"Patient/{session.patient}"}
    if patient_name:
        patient["display"] = patient_name
    document: dict[str, Any] = {
        "patient": patient,
        "technique": {"patient_blinded": True},
        "levels": [],
    }
    if session.encounter:
        document["encounter"] = f"Encounter/{session.encounter}"
    performer = performer_reference(session)
    if performer is not None:
        document["performer"] = performer
    return with_citation(document, citation)
