from typing import Any

from plugin.conformance.r4_conformance import check_r4


def found(resource: dict[str, Any]) -> set[tuple[str, str]]:
    return {(i.path, i.rule) for i in check_r4(resource, resource.get("resourceType", "?"))}


def test_a_bare_resource_is_valid() -> None:
    assert found({"resourceType": "Patient"}) == set()


def test_contained_resources_are_checked_as_resources() -> None:
    patient = {
        "resourceType": "Patient",
        "contained": [
            {"resourceType": "Citation", "status": "active"},
            {"resourceType": "Organization", "colour": "red"},
        ],
    }
    assert found(patient) == {
        ("Patient.contained[0]", "resource-type"),
        ("Patient.contained[1].colour", "r4-element"),
    }


def test_primitive_extensions() -> None:
    patient = {
        "resourceType": "Patient",
        "_birthDate": {"extension": [{"url": "http://example.org/x", "valueString": "y"}]},
        "_name": {"id": "n"},
    }
    assert found(patient) == {("Patient._name", "json")}


def test_nulls_and_objects() -> None:
    patient = {
        "resourceType": "Patient",
        "gender": None,
        "name": ["Jane"],
        "given": [],
    }
    assert found(patient) == {
        ("Patient.gender", "json"),
        ("Patient.name[0]", "json"),
        ("Patient.given", "r4-element"),
    }


def test_null_holds_a_place_for_an_extension_in_a_primitive_list() -> None:
    patient = {
        "resourceType": "Patient",
        "name": [
            {
                "given": ["Jo", None],
                "_given": [None, {"extension": [{"url": "http://x", "valueString": "y"}]}],
            }
        ],
    }
    assert found(patient) == set()


def test_model_errors_carry_paths_and_are_not_repeated() -> None:
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "effectiveDateTime": "not a date",
        "valueQuantity": {"value": "3"},
    }
    assert found(observation) == {
        ("Observation.effectiveDateTime", "r4-datatype"),
        ("Observation.valueQuantity.value", "json"),
    }


def test_elements_later_versions_added_are_not_r4() -> None:
    # R5's Attachment.pages and Observation.triggeredBy; R4 Provenance has no identifier.
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Provenance", "identifier": [{"value": "x"}]}},
            {"resource": {"resourceType": "Observation", "triggeredBy": []}},
            {
                "resource": {
                    "resourceType": "DocumentReference",
                    "content": [{"attachment": {"pages": 2}}],
                }
            },
        ],
    }
    assert {path for path, rule in found(bundle) if rule == "r4-element"} == {
        "Bundle.entry[0].resource.identifier",
        "Bundle.entry[1].resource.triggeredBy",
        "Bundle.entry[2].resource.content[0].attachment.pages",
    }
