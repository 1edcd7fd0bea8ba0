import pytest

from plugin.sandbox.fhir.outcome import FhirError
from plugin.sandbox.fhir.validation import validate_resource


def test_a_valid_resource_is_returned_unchanged() -> None:
    resource = {"resourceType": "Observation", "status": "final", "code": {"text": "x"}}
    assert validate_resource(resource, "Observation") is resource


def test_missing_required_elements_are_named() -> None:
    with pytest.raises(FhirError) as caught:
        validate_resource({"resourceType": "Observation", "code": {"text": "x"}}, "Observation")
    assert caught.value.status == 400
    assert caught.value.issues[0].expression == ("Observation.status",)
    assert caught.value.issues[0].code == "required"


def test_nested_problems_carry_their_path_inside_a_bundle() -> None:
    resource = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "component": [{"valueString": "no code"}],
    }
    with pytest.raises(FhirError) as caught:
        validate_resource(resource, "Observation", "Bundle.entry[3].resource")
    assert caught.value.issues[0].expression == ("Bundle.entry[3].resource.component[0].code",)


def test_status_outside_its_required_value_set_is_refused() -> None:
    with pytest.raises(FhirError) as caught:
        validate_resource(
            {"resourceType": "Observation", "status": "done", "code": {"text": "x"}}, "Observation"
        )
    assert caught.value.issues[0].code == "code-invalid"
    assert "'done' is not one of" in caught.value.issues[0].diagnostics


def test_wrong_or_unsupported_resource_types() -> None:
    with pytest.raises(FhirError, match="this endpoint takes Observation"):
        validate_resource({"resourceType": "Condition"}, "Observation")
    with pytest.raises(FhirError, match="not supported") as caught:
        validate_resource({"resourceType": "Basic"}, None)
    assert caught.value.status == 404
    with pytest.raises(FhirError, match="resourceType is required"):
        validate_resource({"status": "final"}, None)
    with pytest.raises(FhirError, match="JSON object"):
        validate_resource([1, 2], None)


def test_unknown_elements_are_refused() -> None:
    with pytest.raises(FhirError) as caught:
        validate_resource(
            {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "colour": 1},
            None,
        )
    assert caught.value.issues[0].expression == ("Observation.colour",)
