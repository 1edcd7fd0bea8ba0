import copy
import time
from collections.abc import Callable
from typing import Any

import pytest

from plugin.conformance.validator import (
    Severity,
    ValidationIssue,
    count_resources,
    validate_bundle,
    validate_resource,
)
from plugin.resources import conformance_dir
from tests.conformance.conftest import component

Resource = dict[str, Any]
Example = Callable[[str], Resource]

DAR = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
PROFILE_BASE = "https://discography-plugin.example/fhir/StructureDefinition/"


def errors(issues: list[ValidationIssue]) -> set[tuple[str, str]]:
    """(path, rule) of each error."""
    return {(i.path, i.rule) for i in issues if i.severity is Severity.ERROR}


def index_of(observation: Resource, code: str) -> int:
    components: list[Resource] = observation["component"]
    return components.index(component(observation, code))


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in (conformance_dir() / "examples").glob("*.json")),
)
def test_every_example_is_valid(name: str, example: Example) -> None:
    assert validate_resource(example(name)) == []


def test_examples_cover_every_profile(example: Example) -> None:
    bundle = example("Bundle-")
    declared = {
        profile for entry in bundle["entry"] for profile in entry["resource"]["meta"]["profile"]
    }
    assert {p.rsplit("/", 1)[1] for p in declared} == {
        "discography-procedure",
        "discography-level-observation",
        "discography-diagnostic-report",
        "discography-document-reference",
        "discography-provenance",
    }


# --- each check fires --------------------------------------------------------------------


def test_wrong_fixed_unit_code(example: Example) -> None:
    observation = example("L4-L5")
    i = index_of(observation, "opening-pressure")
    observation["component"][i]["valueQuantity"]["code"] = "psi"
    issues = validate_resource(observation)
    assert errors(issues) == {(f"Observation.component[{i}].valueQuantity.code", "fixed-value")}
    assert '"[psi]"' in issues[0].message and '"psi"' in issues[0].message


def test_a_status_the_product_never_writes(example: Example) -> None:
    observation = example("L4-L5")
    observation["status"] = "preliminary"
    assert errors(validate_resource(observation)) == {("Observation.status", "required-binding")}


@pytest.mark.parametrize("status", ["final", "amended", "entered-in-error"])
def test_the_statuses_of_a_filing_and_of_an_amendment(example: Example, status: str) -> None:
    observation = example("L4-L5")
    observation["status"] = status
    assert errors(validate_resource(observation)) == set()


def test_missing_required_component(example: Example) -> None:
    observation = example("L4-L5")
    observation["component"].remove(component(observation, "72514-3"))
    issues = validate_resource(observation)
    assert ("Observation.component", "min-cardinality") in errors(issues)
    assert any("painIntensity" in i.message for i in issues)


def test_cardinality_breach(example: Example) -> None:
    observation = example("L4-L5")
    observation["interpretation"].append(copy.deepcopy(observation["interpretation"][0]))
    issues = validate_resource(observation)
    assert errors(issues) == {("Observation.interpretation", "max-cardinality")}
    assert "at most 1, found 2" in issues[0].message


def test_missing_required_element(example: Example) -> None:
    observation = example("L4-L5")
    del observation["bodySite"]
    assert errors(validate_resource(observation)) == {("Observation.bodySite", "min-cardinality")}


def test_element_the_profile_forbids(example: Example) -> None:
    observation = example("L4-L5")
    observation["valueString"] = "positive"
    assert errors(validate_resource(observation)) == {
        ("Observation.valueString", "max-cardinality")
    }


def test_unknown_code_in_required_binding(example: Example) -> None:
    observation = example("L4-L5")
    i = index_of(observation, "pain-response")
    observation["component"][i]["valueCodeableConcept"]["coding"][0]["code"] = "maybe"
    issues = validate_resource(observation)
    assert errors(issues) == {
        (f"Observation.component[{i}].valueCodeableConcept", "required-binding")
    }
    assert "pain-response|maybe" in issues[0].message


def test_required_binding_needs_a_coding(example: Example) -> None:
    observation = example("L4-L5")
    observation["bodySite"] = {"text": "L4-L5 disc"}
    assert errors(validate_resource(observation)) == {("Observation.bodySite", "required-binding")}


def test_standard_code_outside_the_value_set(example: Example) -> None:
    report = example("DiagnosticReport-")
    report["code"]["coding"][0]["code"] = "18748-4"  # a LOINC code, but not a discography study
    assert errors(validate_resource(report)) == {("DiagnosticReport.code", "required-binding")}


def test_data_absent_reason_with_a_value(example: Example) -> None:
    observation = example("L3-L4")  # no pain provoked: onset pressure is not applicable
    onset = component(observation, "onset-pressure")
    assert onset["dataAbsentReason"]["coding"][0]["code"] == "not-applicable"
    i = observation["component"].index(onset)
    onset["valueQuantity"] = {
        "value": 20.0,
        "unit": "psi",
        "system": "http://unitsofmeasure.org",
        "code": "[psi]",
    }
    assert errors(validate_resource(observation)) == {(f"Observation.component[{i}]", "dgm-cmp-1")}


def test_component_with_neither_value_nor_reason(example: Example) -> None:
    observation = example("L3-L4")
    onset = component(observation, "onset-pressure")
    del onset["dataAbsentReason"]
    i = observation["component"].index(onset)
    assert errors(validate_resource(observation)) == {(f"Observation.component[{i}]", "dgm-cmp-1")}


def test_unknown_data_absent_reason(example: Example) -> None:
    observation = example("L3-L4")
    onset = component(observation, "onset-pressure")
    onset["dataAbsentReason"]["coding"][0]["code"] = "masked"
    i = observation["component"].index(onset)
    assert errors(validate_resource(observation)) == {
        (f"Observation.component[{i}].dataAbsentReason", "required-binding")
    }


def test_role_may_not_be_absent(example: Example) -> None:
    observation = example("L3-L4")
    role = component(observation, "level-role")
    del role["valueCodeableConcept"]
    role["dataAbsentReason"] = {"coding": [{"system": DAR, "code": "unknown"}]}
    i = observation["component"].index(role)
    assert errors(validate_resource(observation)) == {
        (f"Observation.component[{i}].value[x]", "min-cardinality"),
        (f"Observation.component[{i}].dataAbsentReason", "max-cardinality"),
        ("Observation", "dgm-obs-1"),
    }


def test_completed_level_needs_real_pain_values(example: Example) -> None:
    observation = example("L4-L5")
    response = component(observation, "pain-response")
    del response["valueCodeableConcept"]
    response["dataAbsentReason"] = {"coding": [{"system": DAR, "code": "unknown"}]}
    issues = validate_resource(observation)
    assert errors(issues) == {("Observation", "dgm-obs-1")}
    assert "completed level" in issues[0].message


def test_incomplete_level_may_lack_pain_values(example: Example) -> None:
    observation = example("L4-L5")
    component(observation, "technical-result")["valueCodeableConcept"]["coding"][0]["code"] = (
        "aborted"
    )
    response = component(observation, "pain-response")
    del response["valueCodeableConcept"]
    response["dataAbsentReason"] = {"coding": [{"system": DAR, "code": "not-performed"}]}
    assert "dgm-obs-1" not in {rule for _, rule in errors(validate_resource(observation))}


def test_interpretation_must_follow_the_category(example: Example) -> None:
    observation = example("L3-L4")  # negative
    observation["interpretation"][0]["coding"][0]["code"] = "POS"
    assert errors(validate_resource(observation)) == {("Observation", "dgm-obs-2")}


def test_pain_intensity_range(example: Example) -> None:
    observation = example("L4-L5")
    i = index_of(observation, "72514-3")
    observation["component"][i]["valueQuantity"]["value"] = 11
    issues = validate_resource(observation)
    assert errors(issues) == {(f"Observation.component[{i}].valueQuantity.value", "max-value")}
    observation["component"][i]["valueQuantity"]["value"] = -1
    assert errors(validate_resource(observation)) == {
        (f"Observation.component[{i}].valueQuantity.value", "min-value")
    }


def test_quantity_needs_a_value(example: Example) -> None:
    observation = example("L4-L5")
    i = index_of(observation, "total-volume")
    del observation["component"][i]["valueQuantity"]["value"]
    assert errors(validate_resource(observation)) == {
        (f"Observation.component[{i}].valueQuantity.value", "min-cardinality")
    }


def test_choice_type_the_profile_does_not_allow(example: Example) -> None:
    observation = example("L4-L5")
    i = index_of(observation, "injection-order")
    order = observation["component"][i]
    order["valueString"] = str(order.pop("valueInteger"))
    assert errors(validate_resource(observation)) == {
        (f"Observation.component[{i}].valueString", "type")
    }


def test_two_types_of_one_choice(example: Example) -> None:
    observation = example("L4-L5")
    i = index_of(observation, "72514-3")
    observation["component"][i]["valueString"] = "8"
    assert errors(validate_resource(observation)) == {
        (f"Observation.component[{i}].value[x]", "choice"),
        (f"Observation.component[{i}].valueString", "type"),
    }


def test_slices_in_the_wrong_order(example: Example) -> None:
    observation = example("L4-L5")
    components = observation["component"]
    components[3], components[4] = components[4], components[3]
    issues = validate_resource(observation)
    assert errors(issues) == {("Observation.component[4]", "slice-order")}


def test_component_code_outside_the_component_value_set(example: Example) -> None:
    observation = example("L4-L5")
    observation["component"].append(
        {
            "code": {"coding": [{"system": "http://loinc.org", "code": "2160-0"}]},
            "valueString": "stray",
        }
    )
    assert errors(validate_resource(observation)) == {
        ("Observation.component[17].code", "required-binding")
    }


def test_pattern_on_the_code(example: Example) -> None:
    observation = example("L4-L5")
    observation["code"]["coding"][0]["code"] = "discogram-report"
    issues = validate_resource(observation)
    assert errors(issues) == {("Observation.code", "pattern")}
    assert "disc-level-result" in issues[0].message


def test_category_slice_missing(example: Example) -> None:
    observation = example("L4-L5")
    observation["category"][0]["coding"][0]["code"] = "imaging"
    issues = validate_resource(observation)
    assert errors(issues) == {("Observation.category", "min-cardinality")}
    assert "slice procedure" in issues[0].message


def test_identifier_in_the_product_system(example: Example) -> None:
    procedure = example("Procedure-")
    procedure["identifier"][0]["system"] = "urn:oid:1.2.3"
    assert errors(validate_resource(procedure)) == {("Procedure.identifier", "min-cardinality")}
    procedure = example("Procedure-")
    procedure["identifier"].append({"system": "urn:oid:1.2.3", "value": "ehr-42"})
    assert validate_resource(procedure) == []  # an EHR may add its own


def test_procedure_cpt_codes(example: Example) -> None:
    procedure = example("Procedure-")
    cpt = procedure["code"]["coding"][0]
    assert cpt["system"] == "http://www.ama-assn.org/go/cpt"
    cpt["code"] = "72295"  # the S&I code, not an injection code
    assert errors(validate_resource(procedure)) == {("Procedure.code", "dgm-proc-1")}


def test_reference_to_the_wrong_resource_type(example: Example) -> None:
    observation = example("L4-L5")
    observation["subject"] = {"reference": "Group/cohort-1"}
    observation["partOf"] = [{"reference": "https://ehr.example/fhir/Observation/1"}]
    issues = validate_resource(observation)
    assert errors(issues) == {
        ("Observation.subject.reference", "reference-target"),
        ("Observation.partOf[0].reference", "reference-target"),
    }


def test_document_needs_its_plain_text_attachment(example: Example) -> None:
    document = example("DocumentReference-")
    document["content"] = [
        c for c in document["content"] if c["attachment"]["contentType"] == "application/pdf"
    ]
    issues = validate_resource(document)
    assert errors(issues) == {
        ("DocumentReference.content", "min-cardinality"),
    }
    assert any("slice text" in i.message for i in issues)


def test_presented_form_needs_data(example: Example) -> None:
    report = example("DiagnosticReport-")
    html = next(f for f in report["presentedForm"] if f["contentType"] == "text/html")
    del html["data"]
    i = report["presentedForm"].index(html)
    assert errors(validate_resource(report)) == {
        (f"DiagnosticReport.presentedForm[{i}].data", "min-cardinality")
    }


def test_provenance_tag_and_software_agent(example: Example) -> None:
    provenance = example("Provenance-")
    provenance["meta"]["tag"] = []
    del provenance["meta"]["tag"]
    assembler = provenance["agent"][1]
    assembler["who"]["identifier"]["value"] = "someone-else"
    assert errors(validate_resource(provenance)) == {
        ("Provenance", "dgm-prov-1"),
        ("Provenance.agent[1].who", "pattern"),
    }


def test_provenance_agents_are_closed(example: Example) -> None:
    provenance = example("Provenance-")
    provenance["agent"].append(
        {
            "type": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                        "code": "verifier",
                    }
                ]
            },
            "who": {"reference": "Practitioner/other"},
        }
    )
    assert errors(validate_resource(provenance)) == {("Provenance.agent[2]", "slicing-closed")}


# --- FHIR R4 base ------------------------------------------------------------------------


def test_r4b_only_element(example: Example) -> None:
    observation = example("L4-L5")
    observation["extension"] = [
        {
            "url": "https://discography-plugin.example/fhir/StructureDefinition/x",
            "valueRatioRange": {"lowNumerator": {"value": 1}},
        }
    ]
    issues = validate_resource(observation)
    assert errors(issues) == {("Observation.extension[0].valueRatioRange", "r4-element")}
    assert "FHIR R4 (4.0.1)" in issues[0].message


def test_r4b_only_resource_type() -> None:
    issues = validate_resource({"resourceType": "Citation", "status": "active"})
    assert errors(issues) == {("Citation", "resource-type")}


def test_unknown_element_and_empty_values(example: Example) -> None:
    observation = example("L4-L5")
    observation["note"] = []
    observation["colour"] = "blue"
    observation["code"]["text"] = ""
    assert errors(validate_resource(observation)) == {
        ("Observation.note", "ele-1"),
        ("Observation.colour", "r4-element"),
        ("Observation.code.text", "ele-1"),
    }


def test_json_types_of_primitives(example: Example) -> None:
    observation = example("L4-L5")
    i = index_of(observation, "72514-3")
    observation["component"][i]["valueQuantity"]["value"] = "8"
    j = index_of(observation, "injection-order")
    observation["component"][j]["valueInteger"] = True
    issues = validate_resource(observation)
    assert {
        (f"Observation.component[{i}].valueQuantity.value", "json"),
        (f"Observation.component[{j}].valueInteger", "json"),
    } <= errors(issues)


def test_r4_datatype_format(example: Example) -> None:
    observation = example("L4-L5")
    observation["effectiveDateTime"] = "20 November 2026"
    assert errors(validate_resource(observation)) == {
        ("Observation.effectiveDateTime", "r4-datatype")
    }


def test_unprofiled_resource_gets_base_invariants() -> None:
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "pain"},
        "valueString": "some",
        "dataAbsentReason": {"text": "unknown"},
    }
    assert errors(validate_resource(observation)) == {("Observation", "obs-6")}


def test_r4_required_element() -> None:
    issues = validate_resource({"resourceType": "Observation", "code": {"text": "pain"}})
    assert errors(issues) == {("Observation.status", "min-cardinality")}


def test_foreign_profile_is_reported_as_information() -> None:
    patient = {
        "resourceType": "Patient",
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},
    }
    issues = validate_resource(patient)
    assert [(i.severity, i.rule) for i in issues] == [(Severity.INFORMATION, "profile")]


def test_unknown_product_profile(example: Example) -> None:
    procedure = example("Procedure-")
    procedure["meta"]["profile"] = [PROFILE_BASE + "discography-procedur"]
    assert errors(validate_resource(procedure)) == {("Procedure.meta.profile", "profile")}


def test_profile_of_another_resource_type(example: Example) -> None:
    procedure = example("Procedure-")
    procedure["meta"]["profile"] = [PROFILE_BASE + "discography-level-observation"]
    issues = validate_resource(procedure)
    assert errors(issues) == {("Procedure", "profile-type")}


# --- Bundles -----------------------------------------------------------------------------


def test_unresolved_urn_uuid_reference(example: Example) -> None:
    bundle = example("Bundle-")
    missing = "urn:uuid:00000000-0000-5000-8000-000000000000"
    bundle["entry"][1]["resource"]["partOf"][0]["reference"] = missing
    issues = validate_resource(bundle)
    assert errors(issues) == {("Bundle.entry[1].resource.partOf[0].reference", "bundle-reference")}
    assert missing in issues[0].message


def test_duplicate_full_url(example: Example) -> None:
    bundle = example("Bundle-")
    bundle["entry"].append(copy.deepcopy(bundle["entry"][0]))
    assert ("Bundle.entry[7].fullUrl", "bdl-7") in errors(validate_bundle(bundle))


def test_reference_resolved_in_the_bundle_must_have_the_right_type(example: Example) -> None:
    bundle = example("Bundle-")
    observation_url = bundle["entry"][1]["fullUrl"]
    bundle["entry"][0]["resource"]["report"][0]["reference"] = observation_url
    assert errors(validate_resource(bundle)) == {
        ("Bundle.entry[0].resource.report[0].reference", "reference-target")
    }


def test_reference_resolved_in_the_bundle_must_conform_to_the_target_profile(
    example: Example,
) -> None:
    bundle = example("Bundle-")
    report = bundle["entry"][4]["resource"]
    assert report["resourceType"] == "DiagnosticReport"
    del report["meta"]
    issues = errors(validate_resource(bundle))
    assert ("Bundle.entry[0].resource.report[0].reference", "reference-target") in issues


def test_transaction_entry_needs_a_request(example: Example) -> None:
    bundle = example("Bundle-")
    del bundle["entry"][2]["request"]
    assert errors(validate_resource(bundle)) == {("Bundle", "bdl-3")}


def test_transaction_create_goes_to_the_resource_type(example: Example) -> None:
    bundle = example("Bundle-")
    bundle["entry"][2]["request"]["url"] = "Procedure"
    assert errors(validate_resource(bundle)) == {("Bundle.entry[2].request.url", "transaction")}


def test_entry_errors_carry_the_entry_path(example: Example) -> None:
    bundle = example("Bundle-")
    observation = bundle["entry"][2]["resource"]
    observation["status"] = "preliminary"
    observation["issued"] = "yesterday"
    assert errors(validate_resource(bundle)) == {
        ("Bundle.entry[2].resource.status", "required-binding"),
        ("Bundle.entry[2].resource.issued", "r4-datatype"),
    }


def test_malformed_full_url(example: Example) -> None:
    bundle = example("Bundle-")
    bundle["entry"][6]["fullUrl"] = "urn:uuid:not-a-uuid"
    assert ("Bundle.entry[6].fullUrl", "full-url") in errors(validate_resource(bundle))


def test_count_resources(example: Example) -> None:
    assert count_resources(example("Bundle-")) == 8
    assert count_resources(example("Procedure-")) == 1


def test_issue_reads_as_one_line(example: Example) -> None:
    observation = example("L4-L5")
    observation["status"] = "preliminary"
    (issue,) = validate_resource(observation)
    assert str(issue) == (
        "error: Observation.status: code 'preliminary' is not in ValueSet "
        "https://discography-plugin.example/fhir/ValueSet/discography-observation-status "
        "(required binding) [required-binding]"
    )
    assert issue.as_problem().field == "Observation.status"
    assert issue.as_problem().rule == "required-binding"


def test_validating_does_not_change_the_resource(example: Example) -> None:
    bundle = example("Bundle-")
    before = copy.deepcopy(bundle)
    validate_resource(bundle)
    assert bundle == before


def test_a_five_level_bundle_validates_well_under_100_ms(five_level_bundle: Resource) -> None:
    assert validate_resource(five_level_bundle) == []  # warm: the package is loaded once
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        validate_resource(five_level_bundle)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.1, f"{min(timings) * 1000:.0f} ms"
