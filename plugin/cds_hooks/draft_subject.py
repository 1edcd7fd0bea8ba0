"""Whose order a draft discography order is. The hook library's order-select and order-sign
give `draftOrders` as the orders being written for `context.patientId`, and the chart the
service reads is that patient's: a draft is assessed only when its `subject` is
``Patient/{context.patientId}`` (relative, absolute or versioned) or absent.

A draft naming another patient, or a subject that names no patient by id (a Group, an
identifier or display only, a ``urn:uuid:`` or contained reference), is not assessed against
this chart: the clinician gets a card saying so, and the order gets no systemAction. A draft
without a subject is this patient's order (the hook says so) and is assessed, but gets no
systemAction either (`system_actions`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugin.cds_hooks.same_patient import names_another_patient, names_the_patient
from plugin.errors import Problem

__all__ = ["subject_problem"]


def subject_problem(draft: Mapping[str, Any], patient_id: str) -> Problem | None:
    """Why the draft cannot be assessed as `patient_id`'s order; None when it can. The
    subject's JSON shape is already checked (`draft_shape`); the message quotes no id."""
    subject = draft.get("subject")
    if subject is None:
        return None
    reference = subject.get("reference") if isinstance(subject, Mapping) else None
    if isinstance(reference, str) and names_the_patient(reference, patient_id):
        return None
    if isinstance(reference, str) and names_another_patient(reference, patient_id):
        return Problem(
            "subject",
            "same-patient",
            "names another patient than the one whose chart is open",
        )
    return Problem(
        "subject",
        "patient-reference",
        "does not name a patient as Patient/[id], so whose order it is cannot be told",
    )
