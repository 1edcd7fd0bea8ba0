from typing import Any

from plugin.fhir_mapping import map_study
from tests.fhir_mapping.examples import (
    ISSUED,
    example_study_data,
    interpretation_for,
    rendered_report,
    study_from,
)

CPT = "http://www.ama-assn.org/go/cpt"
PRODUCT_CODE = {
    "system": "https://discography-plugin.example/fhir/CodeSystem/discography",
    "code": "provocative-discography",
    "display": "Provocative discography",
}


def procedure_json(data: dict[str, Any]) -> dict[str, Any]:
    study = study_from(data)
    mapped = map_study(study, interpretation_for(study), rendered_report(), issued=ISSUED)
    result: dict[str, Any] = mapped.procedure.model_dump(mode="json", exclude_none=True)
    return result


def test_lumbar_procedure_shape() -> None:
    procedure = procedure_json(example_study_data())
    assert procedure["meta"]["profile"] == [
        "https://discography-plugin.example/fhir/StructureDefinition/discography-procedure"
    ]
    assert procedure["identifier"][0]["value"] == "example-lumbar-1.procedure"
    assert procedure["status"] == "completed"
    assert procedure["code"] == {
        "coding": [{"system": CPT, "code": "62290"}, PRODUCT_CODE],
        "text": "Provocative discography",
    }
    assert procedure["subject"] == {
        "reference": "Patient/example-lumbar",
        "display": "Example, Lumbar (fictional)",
    }
    assert procedure["encounter"] == {"reference": "Encounter/example-lumbar-procedure"}
    assert procedure["performedDateTime"] == "2026-11-20T09:30:00-05:00"
    assert procedure["performer"] == [
        {
            "actor": {
                "reference": "Practitioner/example-spine",
                "display": "Dr. Example Spine (fictional)",
            }
        }
    ]
    assert [site["coding"][0]["code"] for site in procedure["bodySite"]] == [
        "62551000",
        "84020006",
        "715056000",
    ]
    assert [site["text"] for site in procedure["bodySite"]] == [
        "L3-L4 intervertebral disc",
        "L4-L5 intervertebral disc",
        "L5-S1 intervertebral disc",
    ]
    assert procedure["reasonReference"] == [{"reference": "Condition/example-lumbar-lbp"}]
    assert procedure["reasonCode"][0]["text"].startswith("Chronic axial low back pain")
    assert procedure["report"][0]["reference"].startswith("urn:uuid:")


def test_two_regions_give_two_cpt_codings() -> None:
    data = example_study_data()
    data["levels"].append(
        {
            "level": "C5-C6",
            "role": "suspected",
            "order": 4,
            "pain_intensity": 0,
            "pain_response": "none",
        }
    )
    codings = procedure_json(data)["code"]["coding"]
    assert codings == [
        {"system": CPT, "code": "62290"},
        {"system": CPT, "code": "62291"},
        PRODUCT_CODE,
    ]


def test_cervical_and_thoracic_share_one_cpt_code() -> None:
    data = example_study_data()
    data["levels"] = [
        {"level": "C7-T1", "pain_intensity": 0, "pain_response": "none"},
        {"level": "T1-T2", "pain_intensity": 0, "pain_response": "none"},
    ]
    codings = procedure_json(data)["code"]["coding"]
    assert codings == [{"system": CPT, "code": "62291"}, PRODUCT_CODE]


def test_complications_none_is_sent_and_free_text_kept() -> None:
    procedure = procedure_json(example_study_data())
    assert procedure["complication"] == [
        {
            "coding": [
                {
                    "system": "https://discography-plugin.example/fhir/CodeSystem/complication",
                    "code": "none",
                    "display": "None",
                }
            ]
        }
    ]
    data = example_study_data()
    data["complications"] = ["vasovagal", "Headache after the procedure"]
    complications = procedure_json(data)["complication"]
    assert [c["coding"][0]["code"] for c in complications] == ["vasovagal", "other"]
    assert "text" not in complications[0]
    assert complications[1]["text"] == "Headache after the procedure"


def test_nothing_recorded_sends_no_complication_and_no_reason() -> None:
    data = example_study_data()
    del data["complications"]
    del data["indication"]
    for field in ("encounter", "performer", "performed"):
        del data[field]
    procedure = procedure_json(data)
    for key in (
        "complication",
        "reasonCode",
        "reasonReference",
        "encounter",
        "performer",
        "performedDateTime",
    ):
        assert key not in procedure


def test_indication_references_without_text_send_no_reason_code() -> None:
    data = example_study_data()
    data["indication"] = {"reason_references": [{"reference": "Condition/1", "display": "LBP"}]}
    procedure = procedure_json(data)
    assert "reasonCode" not in procedure
    assert procedure["reasonReference"] == [{"reference": "Condition/1", "display": "LBP"}]


def _failed(level: str, result: str) -> dict[str, Any]:
    data: dict[str, Any] = {"level": level, "technical_result": result}
    if result == "aborted":
        data["abort_reason"] = "vasovagal episode"
    return data


def test_no_disc_entered_is_not_done() -> None:
    """Review: a study where no needle reached a nucleus was filed as completed."""
    data = example_study_data()
    data["levels"] = [
        {**_failed("L4-L5", "not-entered"), "order": 1},
        {**_failed("L5-S1", "not-entered"), "order": 2},
    ]
    procedure = procedure_json(data)
    assert procedure["status"] == "not-done"
    assert procedure["statusReason"] == {
        "text": "No disc injection was completed: L4-L5 not entered; L5-S1 not entered."
    }


def test_an_injection_begun_but_none_completed_is_stopped() -> None:
    """/tmp/rv3/studies/allfailed.json: L4-L5 not entered, L5-S1 aborted."""
    data = example_study_data()
    data["levels"] = [
        {**_failed("L4-L5", "not-entered"), "order": 1},
        {**_failed("L5-S1", "aborted"), "order": 2},
    ]
    procedure = procedure_json(data)
    assert procedure["status"] == "stopped"
    assert procedure["statusReason"] == {
        "text": "No disc injection was completed: L4-L5 not entered; "
        "L5-S1 aborted (vasovagal episode)."
    }


def test_one_completed_injection_makes_the_procedure_completed() -> None:
    data = example_study_data()
    data["levels"][0] |= {"technical_result": "aborted", "abort_reason": "pain"}
    for field in ("pain_intensity", "pain_response", "onset_pressure_psi", "onset_volume_ml"):
        data["levels"][0].pop(field, None)
    procedure = procedure_json(data)
    assert procedure["status"] == "completed"
    assert "statusReason" not in procedure
