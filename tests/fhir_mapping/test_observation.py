from typing import Any

import pytest

from plugin.fhir_mapping import map_study
from plugin.fhir_mapping.coding import DataAbsentReason
from plugin.fhir_mapping.observation import pressure_sensitivity_absence
from plugin.interpretation.results import LevelCategory, PressureSensitivity
from plugin.interpretation.rule_set import default_rule_sets
from plugin.interpretation.thresholds import PressureBand
from plugin.study.model import Level, PainResponse, TechnicalResult
from tests.fhir_mapping.examples import (
    ISSUED,
    example_study_data,
    interpretation_for,
    rendered_report,
    study_from,
)

DISCOGRAPHY = "https://discography-plugin.example/fhir/CodeSystem/discography"
DAR = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
UCUM = "http://unitsofmeasure.org"
COMPONENT_ORDER = [
    "level-role",
    "injection-order",
    "technical-result",
    "72514-3",
    "pain-response",
    "pain-location",
    "opening-pressure",
    "onset-pressure",
    "peak-pressure",
    "delta-pressure",
    "onset-volume",
    "total-volume",
    "nucleogram",
    "dallas-grade",
    "contrast-leak",
    "level-category",
    "pressure-sensitivity",
]
# Components a completed level must carry with a real value.
REQUIRED_WHEN_COMPLETED = [
    "technical-result",
    "72514-3",
    "pain-response",
    "level-role",
    "level-category",
]


def observation_json(
    data: dict[str, Any],
    level: str,
    categories: dict[str, LevelCategory] | None = None,
    sensitivities: dict[str, PressureSensitivity] | None = None,
    *,
    with_library: bool = True,
) -> dict[str, Any]:
    study = study_from(data)
    interpretation = interpretation_for(study, categories, sensitivities)
    mapped = map_study(
        study,
        interpretation,
        rendered_report(),
        issued=ISSUED,
        library=default_rule_sets() if with_library else None,
    )
    result: dict[str, Any] = mapped.observations[level].model_dump(mode="json", exclude_none=True)
    return result


def components(observation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["code"]["coding"][0]["code"]: c for c in observation["component"]}


def absent_reason(component: dict[str, Any]) -> str | None:
    reason = component.get("dataAbsentReason")
    if reason is None:
        return None
    assert reason["coding"][0]["system"] == DAR
    assert not [key for key in component if key.startswith("value")]
    code: str = reason["coding"][0]["code"]
    return code


def test_positive_level_shape() -> None:
    data = example_study_data()
    obs = observation_json(data, "L4-L5", {"L4-L5": LevelCategory.HIGHLY_PROBABLE})
    assert obs["resourceType"] == "Observation"
    assert obs["meta"]["profile"] == [
        "https://discography-plugin.example/fhir/StructureDefinition/discography-level-observation"
    ]
    assert obs["identifier"] == [
        {
            "system": "https://discography-plugin.example/fhir/identifier/discography",
            "value": "example-lumbar-1.level.L4-L5",
        }
    ]
    assert obs["status"] == "final"
    assert obs["category"] == [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "procedure",
                }
            ]
        }
    ]
    assert obs["code"] == {
        "coding": [
            {
                "system": DISCOGRAPHY,
                "code": "disc-level-result",
                "display": "Provocative discography level result",
            }
        ],
        "text": "Provocative discography level result",
    }
    assert obs["subject"]["reference"] == "Patient/example-lumbar"
    assert obs["encounter"] == {"reference": "Encounter/example-lumbar-procedure"}
    assert obs["performer"][0]["reference"] == "Practitioner/example-spine"
    assert obs["effectiveDateTime"] == "2026-11-20T09:30:00-05:00"
    assert obs["bodySite"] == {
        "coding": [{"system": "http://snomed.info/sct", "code": "84020006"}],
        "text": "L4-L5 intervertebral disc",
    }
    assert obs["interpretation"] == [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                    "code": "POS",
                }
            ],
            "text": "Positive",
        }
    ]
    assert obs["partOf"][0]["reference"].startswith("urn:uuid:")
    assert not [key for key in obs if key.startswith("value") or key == "dataAbsentReason"]


def test_components_are_all_present_in_order() -> None:
    for level in ("L3-L4", "L4-L5", "L5-S1"):
        obs = observation_json(example_study_data(), level)
        assert [c["code"]["coding"][0]["code"] for c in obs["component"]] == COMPONENT_ORDER
        for component in obs["component"]:
            coding = component["code"]["coding"][0]
            if coding["code"] == "72514-3":
                assert coding == {"system": "http://loinc.org", "code": "72514-3"}
                assert component["code"]["text"] == "Pain severity, 0-10 numeric rating"
            else:
                assert coding["system"] == DISCOGRAPHY
                assert coding["display"]


def test_measured_values_of_a_painful_level() -> None:
    obs = observation_json(
        example_study_data(),
        "L4-L5",
        {"L4-L5": LevelCategory.HIGHLY_PROBABLE},
        {"L4-L5": PressureSensitivity.CHEMICAL},
    )
    comp = components(obs)
    assert comp["level-role"]["valueCodeableConcept"]["coding"][0]["code"] == "suspected"
    assert comp["injection-order"]["valueInteger"] == 3
    assert comp["technical-result"]["valueCodeableConcept"]["coding"][0]["code"] == "completed"
    assert comp["72514-3"]["valueQuantity"] == {
        "value": 8,
        "unit": "{score}",
        "system": UCUM,
        "code": "{score}",
    }
    assert comp["pain-response"]["valueCodeableConcept"]["coding"][0] == {
        "system": "https://discography-plugin.example/fhir/CodeSystem/pain-response",
        "code": "concordant",
        "display": "Concordant",
    }
    assert comp["pain-location"]["valueString"] == "Central low back, same as usual pain"
    psi = {"unit": "psi", "system": UCUM, "code": "[psi]"}
    assert comp["opening-pressure"]["valueQuantity"] == {"value": 10, **psi}
    assert comp["onset-pressure"]["valueQuantity"] == {"value": 18, **psi}
    assert comp["peak-pressure"]["valueQuantity"] == {"value": 40, **psi}
    assert comp["delta-pressure"]["valueQuantity"] == {"value": 8, **psi}
    ml = {"unit": "mL", "system": UCUM, "code": "mL"}
    assert comp["onset-volume"]["valueQuantity"] == {"value": 1.0, **ml}
    assert comp["total-volume"]["valueQuantity"] == {"value": 2.0, **ml}
    assert comp["nucleogram"]["valueCodeableConcept"]["coding"][0]["code"] == "4"
    assert comp["nucleogram"]["valueCodeableConcept"]["coding"][0]["display"] == "Fissured"
    assert comp["dallas-grade"]["valueCodeableConcept"]["coding"][0]["code"] == "4"
    assert comp["contrast-leak"]["valueCodeableConcept"]["coding"][0]["code"] == "none"
    category = comp["level-category"]["valueCodeableConcept"]["coding"][0]
    assert category["system"] == "https://discography-plugin.example/fhir/CodeSystem/level-category"
    assert category["code"] == "highly-probable"
    sensitivity = comp["pressure-sensitivity"]["valueCodeableConcept"]["coding"][0]
    assert sensitivity["code"] == "chemical"
    assert all(absent_reason(c) is None for c in comp.values())


def test_painless_level_onset_values_are_not_applicable_and_intensity_zero_is_real() -> None:
    comp = components(observation_json(example_study_data(), "L3-L4"))
    for code in ("pain-location", "onset-pressure", "delta-pressure", "onset-volume"):
        assert absent_reason(comp[code]) == "not-applicable", code
    assert comp["72514-3"]["valueQuantity"]["value"] == 0  # recorded as 0: a real value
    assert comp["pain-response"]["valueCodeableConcept"]["coding"][0]["code"] == "none"


def test_level_not_completed_is_not_performed_and_keeps_its_reason() -> None:
    data = example_study_data()
    data["levels"].append(
        {
            "level": "L2-L3",
            "role": "control",
            "order": 4,
            "technical_result": "aborted",
            "abort_reason": "Vasovagal episode — « stop » <b>now</b>",
        }
    )
    obs = observation_json(data, "L2-L3")
    comp = components(obs)
    assert comp["technical-result"]["valueCodeableConcept"]["coding"][0]["code"] == "aborted"
    assert comp["level-role"]["valueCodeableConcept"]["coding"][0]["code"] == "control"
    assert comp["injection-order"]["valueInteger"] == 4
    assert comp["level-category"]["valueCodeableConcept"]["coding"][0]["code"] == "not-assessable"
    measured = [*COMPONENT_ORDER[3:15], "pressure-sensitivity"]
    for code in measured:
        assert absent_reason(comp[code]) == "not-performed", code
    assert obs["interpretation"][0]["coding"][0]["code"] == "IND"
    assert obs["interpretation"][0]["text"] == "Indeterminate"
    # R4 `cancelled`: not completed ("aborted"), so no chart view lists it as a final result.
    assert obs["status"] == "cancelled"
    assert observation_json(data, "L4-L5")["status"] == "final"
    assert obs["note"] == [{"text": "Abort reason: Vasovagal episode — « stop » <b>now</b>"}]


def test_values_not_recorded_are_unknown_never_zero() -> None:
    data = example_study_data()
    level = data["levels"][1]  # L4-L5, painful
    for field in (
        "order",
        "opening_pressure_psi",
        "peak_pressure_psi",
        "onset_volume_ml",
        "total_volume_ml",
        "pain_location",
        "nucleogram",
        "dallas_grade",
        "leak",
    ):
        del level[field]
    comp = components(observation_json(data, "L4-L5"))
    for code in (
        "injection-order",
        "pain-location",
        "opening-pressure",
        "peak-pressure",
        "delta-pressure",  # onset recorded, opening not: ΔP cannot be computed
        "onset-volume",
        "total-volume",
        "nucleogram",
        "dallas-grade",
        "contrast-leak",
        "pressure-sensitivity",  # lumbar bands exist but ΔP is unknown
    ):
        assert absent_reason(comp[code]) == "unknown", code
    assert comp["onset-pressure"]["valueQuantity"]["value"] == 18
    for component in comp.values():
        if "valueQuantity" in component and component["code"]["coding"][0]["code"] != "72514-3":
            assert component["valueQuantity"]["value"] != 0


def test_completed_level_always_has_the_required_values() -> None:
    data = example_study_data()
    for level in data["levels"]:
        for field in list(level):
            if field not in ("level", "pain_intensity", "pain_response"):
                del level[field]
    for name in ("L3-L4", "L4-L5", "L5-S1"):
        comp = components(observation_json(data, name))
        for code in REQUIRED_WHEN_COMPLETED:
            assert absent_reason(comp[code]) is None, (name, code)


def test_cervical_rule_set_has_no_pressure_sensitivity_so_it_is_not_applicable() -> None:
    data = example_study_data()
    data["levels"] = [
        {
            "level": "C5-C6",
            "role": "suspected",
            "order": 1,
            "opening_pressure_psi": 5.0,
            "onset_pressure_psi": 10.0,
            "pain_intensity": 8,
            "pain_response": "concordant",
        },
        {
            "level": "C4-C5",
            "role": "control",
            "order": 2,
            "pain_intensity": 0,
            "pain_response": "none",
        },
    ]
    for level in ("C5-C6", "C4-C5"):
        comp = components(observation_json(data, level))
        assert absent_reason(comp["pressure-sensitivity"]) == "not-applicable"
        # Without the rule sets at hand the mapper cannot tell, and says so.
        comp = components(observation_json(data, level, with_library=False))
        assert absent_reason(comp["pressure-sensitivity"]) == "unknown"


def test_painless_lumbar_level_without_class_is_not_applicable() -> None:
    # L3-L4 stayed painless to ΔP 83 (< 90): no band classifies it.
    comp = components(observation_json(example_study_data(), "L3-L4"))
    assert absent_reason(comp["pressure-sensitivity"]) == "not-applicable"


def lumbar_bands() -> tuple[PressureBand, ...]:
    rule_set = default_rule_sets().get("lumbar-manometric")
    assert rule_set is not None
    return rule_set.thresholds.pressure_sensitivity


BANDS = lumbar_bands()


def concordant(**fields: float) -> Level:
    return Level(level="L4-L5", pain_intensity=8, pain_response=PainResponse.CONCORDANT, **fields)


def painless(**fields: float) -> Level:
    return Level(level="L4-L5", pain_intensity=0, pain_response=PainResponse.NONE, **fields)


@pytest.mark.parametrize(
    ("level", "bands", "reason"),
    [
        (
            Level(level="L4-L5", technical_result=TechnicalResult.NOT_ENTERED),
            BANDS,
            "not-performed",
        ),
        (concordant(), None, "unknown"),
        (concordant(), (), "not-applicable"),
        (concordant(opening_pressure_psi=10.0), BANDS, "unknown"),
        (
            Level(
                level="L4-L5",
                pain_intensity=5,
                pain_response=PainResponse.DISCORDANT,
                opening_pressure_psi=10.0,
                onset_pressure_psi=30.0,
            ),
            BANDS,
            "not-applicable",
        ),
        (painless(opening_pressure_psi=10.0), BANDS, "unknown"),
        (painless(opening_pressure_psi=10.0, peak_pressure_psi=60.0), BANDS, "not-applicable"),
    ],
)
def test_pressure_sensitivity_absence(
    level: Level, bands: tuple[PressureBand, ...] | None, reason: str
) -> None:
    assert BANDS  # the shipped lumbar rule set classifies pressure sensitivity
    assert pressure_sensitivity_absence(level, bands) == DataAbsentReason(reason)


def test_optional_context_is_omitted_not_emptied() -> None:
    data = example_study_data()
    for field in ("encounter", "performer", "performed"):
        del data[field]
    obs = observation_json(data, "L4-L5")
    for key in ("encounter", "performer", "effectiveDateTime", "note"):
        assert key not in obs


def test_comment_goes_to_a_note_unchanged() -> None:
    data = example_study_data()
    data["levels"][1]["comment"] = 'Patient said: "it\'s my pain" <script>alert(1)</script> 痛い'
    obs = observation_json(data, "L4-L5")
    assert obs["note"] == [{"text": 'Patient said: "it\'s my pain" <script>alert(1)</script> 痛い'}]
