"""Everything the mapper writes, for studies of every kind, conforms to the profiles."""

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugin.conformance.validator import validate_resource
from plugin.study.levels import DISC_LEVELS
from tests.conformance.studies import example_study, five_level_study, mapped_bundle


def _cervical() -> dict[str, Any]:
    return {
        "id": "cervical-2",
        "patient": "Patient/c2",
        "encounter": "Encounter/c2",
        "performer": "Practitioner/p1",
        "performed": "2026-10-02T14:00:00+02:00",
        "indication": "Axial neck pain, fusion considered",
        "levels": [
            {
                "level": "C4-C5",
                "role": "control",
                "order": 1,
                "pain_intensity": 0,
                "pain_response": "none",
                "dallas_grade": 1,
                "total_volume_ml": 0.3,
            },
            {
                "level": "C5-C6",
                "order": 2,
                "pain_intensity": 8,
                "pain_response": "concordant",
                "opening_pressure_psi": 15.0,
                "onset_pressure_psi": 30.0,
                "dallas_grade": 4,
                "leak": "epidural",
                "total_volume_ml": 0.4,
                "onset_volume_ml": 0.3,
            },
            {"level": "C6-C7", "order": 3, "technical_result": "not-entered"},
        ],
        "complications": ["vasovagal", "Transient dizziness"],
    }


def _several_regions() -> dict[str, Any]:
    return {
        "patient": "Patient/t1",
        "levels": [
            {"level": "C7-T1", "order": 1, "pain_intensity": 2, "pain_response": "discordant"},
            {
                "level": "T12-L1",
                "role": "control",
                "order": 2,
                "pain_intensity": 0,
                "pain_response": "none",
            },
            {"level": "L1-L2", "order": 3, "pain_intensity": 7, "pain_response": "concordant"},
        ],
    }


def _minimal() -> dict[str, Any]:
    """Only what a study must have: no id, encounter, performer, time or indication."""
    return {
        "patient": "Patient/m1",
        "levels": [{"level": "L4-L5", "pain_intensity": 0, "pain_response": "none"}],
    }


def _no_disc_entered() -> dict[str, Any]:
    """Procedure.status not-done (review: it was "completed")."""
    return {
        "patient": "Patient/n1",
        "levels": [
            {"level": "L4-L5", "order": 1, "technical_result": "not-entered"},
            {"level": "L5-S1", "order": 2, "technical_result": "not-entered"},
        ],
    }


def _abandoned() -> dict[str, Any]:
    """Procedure.status stopped: an injection began but none was completed."""
    return {
        "patient": "Patient/a1",
        "levels": [
            {"level": "L4-L5", "order": 1, "technical_result": "not-entered"},
            {
                "level": "L5-S1",
                "order": 2,
                "technical_result": "aborted",
                "abort_reason": "vasovagal episode",
            },
        ],
        "complications": ["vasovagal"],
    }


STUDIES = {
    "lumbar example": example_study,
    "five levels, one aborted": five_level_study,
    "cervical, one not entered, complications": _cervical,
    "several regions, no pressures": _several_regions,
    "minimal": _minimal,
    "no disc entered": _no_disc_entered,
    "every injection failed, one aborted": _abandoned,
}


@pytest.mark.parametrize("name", STUDIES)
def test_mapped_study_conforms(name: str) -> None:
    bundle = mapped_bundle(STUDIES[name]())
    assert validate_resource(bundle) == []


def test_mapped_study_with_the_real_report_conforms() -> None:
    bundle = mapped_bundle(_cervical(), real_report=True, document_type="34121-4")
    assert validate_resource(bundle) == []


def test_each_mapped_resource_conforms_on_its_own() -> None:
    bundle = mapped_bundle(five_level_study())
    for entry in bundle["entry"]:
        resource = copy.deepcopy(entry["resource"])
        assert validate_resource(resource) == [], resource["resourceType"]


_completed = st.fixed_dictionaries(
    {
        "pain_intensity": st.integers(0, 10),
        "opening_pressure_psi": st.none() | st.floats(0, 40, allow_nan=False),
        "peak_pressure_psi": st.none() | st.floats(90, 120, allow_nan=False),
        "total_volume_ml": st.none() | st.floats(1.5, 3.5, allow_nan=False),
        "nucleogram": st.none() | st.integers(1, 5),
        "dallas_grade": st.none() | st.integers(0, 5),
        "leak": st.none() | st.sampled_from(["none", "epidural", "foraminal", "vascular"]),
        "role": st.sampled_from(["suspected", "control"]),
    }
)


@st.composite
def _levels(draw: st.DrawFn) -> list[dict[str, Any]]:
    start = draw(st.integers(0, len(DISC_LEVELS) - 4))
    count = draw(st.integers(1, 4))
    levels = []
    for offset in range(count):
        level: dict[str, Any] = {"level": DISC_LEVELS[start + offset], "order": offset + 1}
        outcome = draw(st.sampled_from(["completed", "completed", "aborted", "not-entered"]))
        if outcome != "completed":
            level["technical_result"] = outcome
        else:
            values = {k: v for k, v in draw(_completed).items() if v is not None}
            if values["pain_intensity"] == 0:
                values["pain_response"] = "none"
            else:
                values["pain_response"] = draw(st.sampled_from(["concordant", "discordant"]))
                opening = values.get("opening_pressure_psi")
                if isinstance(opening, float) and draw(st.booleans()):
                    values["onset_pressure_psi"] = opening + draw(st.floats(0, 49))
                    values["onset_volume_ml"] = 1.0
            level |= values
        levels.append(level)
    return levels


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(levels=_levels(), with_performer=st.booleans())
def test_any_valid_study_maps_to_conforming_resources(
    levels: list[dict[str, Any]], with_performer: bool
) -> None:
    study: dict[str, Any] = {"patient": "Patient/h1", "levels": levels}
    if with_performer:
        study["performer"] = "Practitioner/h2"
        study["performed"] = "2026-11-20T09:30:00-05:00"
    assert validate_resource(mapped_bundle(study)) == []


@pytest.mark.parametrize(
    ("name", "status"),
    [("no disc entered", "not-done"), ("every injection failed, one aborted", "stopped")],
)
def test_a_study_without_a_completed_injection_files_its_procedure_status(
    name: str, status: str
) -> None:
    bundle = mapped_bundle(STUDIES[name]())
    procedure = bundle["entry"][0]["resource"]
    assert procedure["resourceType"] == "Procedure"
    assert procedure["status"] == status
    assert validate_resource(bundle) == []
