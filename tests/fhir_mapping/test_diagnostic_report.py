import base64
from typing import Any

from plugin.fhir_mapping import map_study
from plugin.interpretation import default_rule_sets, interpret_study
from plugin.interpretation.results import LevelCategory
from tests.fhir_mapping.examples import (
    CERVICAL_RULE_SET,
    ISSUED,
    LUMBAR_RULE_SET,
    example_study_data,
    interpretation_for,
    rendered_report,
    study_from,
)

LOINC = "http://loinc.org"


def report_json(data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    study = study_from(data)
    interpretation = interpretation_for(study, **kwargs)
    mapped = map_study(study, interpretation, rendered_report(), issued=ISSUED)
    result: dict[str, Any] = mapped.diagnostic_report.model_dump(mode="json", exclude_none=True)
    return result


def test_lumbar_report_shape() -> None:
    report = report_json(
        example_study_data(),
        categories={"L4-L5": LevelCategory.HIGHLY_PROBABLE},
        conclusion_text="Discogenic pain at L4-L5 (highly probable).",
    )
    assert report["meta"]["profile"] == [
        "https://discography-plugin.example/fhir/StructureDefinition/discography-diagnostic-report"
    ]
    assert report["identifier"][0]["value"] == "example-lumbar-1.report"
    assert report["status"] == "final"
    assert report["category"] == [
        {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}
    ]
    assert report["code"] == {
        "coding": [{"system": LOINC, "code": "37193-0"}],
        "text": "Discography, lumbar spine",
    }
    assert report["subject"]["reference"] == "Patient/example-lumbar"
    assert report["encounter"]["reference"] == "Encounter/example-lumbar-procedure"
    assert report["effectiveDateTime"] == "2026-11-20T09:30:00-05:00"
    assert report["issued"] == "2026-11-20T11:45:12-05:00"
    performer = {
        "reference": "Practitioner/example-spine",
        "display": "Dr. Example Spine (fictional)",
    }
    assert report["performer"] == [performer]
    assert report["resultsInterpreter"] == [performer]
    assert len(report["result"]) == 3
    assert report["conclusion"] == (
        "Discogenic pain at L4-L5 (highly probable).\n"
        "Rule sets: Lumbar manometric criteria (lumbar-manometric version 1.0.0)."
    )
    assert report["conclusionCode"] == [
        {
            "coding": [
                {
                    "system": "https://discography-plugin.example/fhir/CodeSystem/study-conclusion",
                    "code": "discogenic-level-identified",
                    "display": "Discogenic level identified",
                }
            ]
        }
    ]


def test_presented_form_is_the_html_then_the_pdf() -> None:
    html, pdf = report_json(example_study_data())["presentedForm"]
    rendered = rendered_report()
    assert html["contentType"] == "text/html"
    assert html["language"] == "en"
    assert base64.b64decode(html["data"]).decode("utf-8") == rendered.html
    assert html["title"] == "Provocative discography report"
    assert pdf["contentType"] == "application/pdf"
    assert base64.b64decode(pdf["data"]) == rendered.pdf
    assert pdf["title"] == "Provocative discography report"


def test_report_code_by_region() -> None:
    data = example_study_data()
    data["levels"] = [{"level": "C5-C6", "pain_intensity": 0, "pain_response": "none"}]
    assert report_json(data)["code"]["coding"] == [{"system": LOINC, "code": "37192-2"}]
    data["levels"] = [{"level": "T7-T8", "pain_intensity": 0, "pain_response": "none"}]
    assert report_json(data)["code"]["coding"] == [{"system": LOINC, "code": "70933-7"}]


def test_several_regions_use_the_unspecified_region_code_and_list_both_rule_sets() -> None:
    data = example_study_data()
    data["levels"].append({"level": "C5-C6", "pain_intensity": 0, "pain_response": "none"})
    report = report_json(data)
    assert report["code"] == {
        "coding": [{"system": LOINC, "code": "24927-6"}],
        "text": "Discography, spine (unspecified region)",
    }
    assert report["conclusion"].endswith(
        f"Rule sets: Lumbar manometric criteria (lumbar-manometric version "
        f"{LUMBAR_RULE_SET.version}); Cervical triangulation (cervical-triangulation version "
        f"{CERVICAL_RULE_SET.version})."
    )


def test_without_performer_or_date_those_elements_are_omitted() -> None:
    data = example_study_data()
    for field in ("encounter", "performer", "performed"):
        del data[field]
    report = report_json(data)
    for key in ("performer", "resultsInterpreter", "encounter", "effectiveDateTime"):
        assert key not in report
    assert report["issued"] == "2026-11-20T11:45:12-05:00"


def engine_report_json(levels: list[dict[str, Any]]) -> dict[str, Any]:
    """The DiagnosticReport of the example study with `levels`, interpreted by the engine with
    the shipped rule sets."""
    data = example_study_data()
    data["levels"] = levels
    study = study_from(data)
    mapped = map_study(study, interpret_study(study), rendered_report(), issued=ISSUED)
    result: dict[str, Any] = mapped.diagnostic_report.model_dump(mode="json", exclude_none=True)
    return result


def shipped_version(rule_set_id: str) -> str:
    rule_set = default_rule_sets().get(rule_set_id)
    assert rule_set is not None
    return rule_set.version


def test_a_level_judged_without_its_pressures_is_not_coded_as_a_negative_study() -> None:
    report = engine_report_json(
        [
            {"level": "L3-L4", "pain_intensity": 0, "pain_response": "none"},
            {"level": "L4-L5", "pain_intensity": 8, "pain_response": "concordant",
             "onset_volume_ml": 1.0},
        ]
    )  # fmt: skip
    assert report["conclusionCode"] == [
        {
            "coding": [
                {
                    "system": "https://discography-plugin.example/fhir/CodeSystem/study-conclusion",
                    "code": "indeterminate-data-not-recorded",
                    "display": "Study indeterminate: data not recorded",
                }
            ]
        }
    ]
    assert report["conclusion"] == (
        "Study indeterminate: data not recorded. "
        "Could not be judged for missing data: L4-L5 (pressure not recorded).\n"
        "Rule sets: Lumbar manometric criteria with adjacent negative controls "
        f"(lumbar-manometric version {shipped_version('lumbar-manometric')})."
    )


def test_a_study_of_failed_injections_is_coded_no_level_assessable() -> None:
    report = engine_report_json([{"level": "L4-L5", "technical_result": "not-entered"}])
    assert report["conclusionCode"][0]["coding"][0]["code"] == "indeterminate-no-level-assessable"


def test_the_cervical_rule_set_version_reaches_the_conclusion() -> None:
    report = engine_report_json(
        [
            {"level": "C7-T1", "pain_intensity": 8, "pain_response": "concordant",
             "dallas_grade": 4, "opening_pressure_psi": 10.0, "onset_pressure_psi": 20.0},
            {"level": "T1-T2", "pain_intensity": 0, "pain_response": "none"},
        ]
    )  # fmt: skip
    assert shipped_version("cervical-triangulation") == "1.1.0"
    assert report["conclusionCode"][0]["coding"][0]["code"] == "discogenic-level-identified"
    assert report["conclusion"].endswith("(cervical-triangulation version 1.1.0).")
