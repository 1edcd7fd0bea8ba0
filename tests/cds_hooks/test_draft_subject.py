from __future__ import annotations

from typing import Any

import pytest

from plugin.cds_hooks.draft_subject import subject_problem
from tests.cds_hooks.conftest import PATIENT_ID, discography_order


def with_subject(subject: Any) -> dict[str, Any]:
    order = discography_order()
    if subject is None:
        del order["subject"]
    else:
        order["subject"] = subject
    return order


@pytest.mark.parametrize(
    "subject",
    [
        None,
        {"reference": f"Patient/{PATIENT_ID}"},
        {"reference": f"https://ehr.example.org/fhir/Patient/{PATIENT_ID}"},
        {"reference": f"Patient/{PATIENT_ID}/_history/3"},
    ],
    ids=["absent", "relative", "absolute", "versioned"],
)
def test_this_patients_drafts_are_assessed(subject: Any) -> None:
    assert subject_problem(with_subject(subject), PATIENT_ID) is None


@pytest.mark.parametrize(
    ("subject", "rule"),
    [
        ({"reference": "Patient/pt-2"}, "same-patient"),
        ({"reference": "https://x.example/fhir/Patient/pt-2"}, "same-patient"),
        ({"reference": "Group/g1"}, "patient-reference"),
        ({"identifier": {"value": "MRN2"}}, "patient-reference"),
        ({"display": "Jane Doe"}, "patient-reference"),
        ({"reference": "urn:uuid:6a1b7c1e-6f3a-4d1b-9a43-2f1d0c6b9e10"}, "patient-reference"),
    ],
    ids=["other", "other-absolute", "group", "identifier", "display", "urn-uuid"],
)
def test_other_or_unreadable_subjects_are_not_assessed(subject: Any, rule: str) -> None:
    problem = subject_problem(with_subject(subject), PATIENT_ID)
    assert problem is not None and problem.rule == rule and problem.field == "subject"
    assert "pt-2" not in problem.message and "MRN2" not in problem.message
