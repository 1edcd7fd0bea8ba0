from plugin.sandbox.fhir.references import iter_references, local_reference, patient_reference_ids

BASE = "http://127.0.0.1:8000/fhir"


def test_relative_absolute_and_versioned_references_resolve_locally() -> None:
    assert local_reference("Patient/p1", BASE) == ("Patient", "p1")
    assert local_reference(f"{BASE}/Observation/o.1", BASE) == ("Observation", "o.1")
    assert local_reference("Patient/p1/_history/3", BASE) == ("Patient", "p1")


def test_references_elsewhere_are_not_local() -> None:
    assert local_reference("https://other.example/fhir/Patient/p1", BASE) is None
    assert local_reference("urn:uuid:0b1f", BASE) is None
    assert local_reference("#contained", BASE) is None


def test_compartment_of_a_resource_follows_its_patient_element() -> None:
    observation = {"resourceType": "Observation", "subject": {"reference": "Patient/p1"}}
    allergy = {"resourceType": "AllergyIntolerance", "patient": {"reference": f"{BASE}/Patient/p2"}}
    group_subject = {"resourceType": "Observation", "subject": {"reference": "Group/g"}}
    assert patient_reference_ids(observation, BASE) == ["p1"]
    assert patient_reference_ids(allergy, BASE) == ["p2"]
    assert patient_reference_ids({"resourceType": "Patient", "id": "p3"}, BASE) == ["p3"]
    assert patient_reference_ids(group_subject, BASE) == []


def test_every_nested_reference_is_found() -> None:
    report = {
        "subject": {"reference": "Patient/p"},
        "result": [{"reference": "Observation/a"}, {"reference": "Observation/b"}],
        "code": {"text": "no reference here"},
    }
    assert [r["reference"] for r in iter_references(report)] == [
        "Patient/p",
        "Observation/a",
        "Observation/b",
    ]
