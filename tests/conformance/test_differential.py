from plugin.conformance.differential import (
    declares_profile,
    element,
    identifier_slices,
    path_of,
    quantity_elements,
    reference_to,
    single_coded_slice,
)
from plugin.fhir_mapping.coding import OBSERVATION_CATEGORY_PROCEDURE


def test_path_and_slice_name_follow_from_the_id() -> None:
    assert path_of("Observation.component:painIntensity.value[x]") == (
        "Observation.component.value[x]"
    )
    sliced = element("Observation.component:painIntensity", min=1)
    assert sliced == {
        "id": "Observation.component:painIntensity",
        "path": "Observation.component",
        "sliceName": "painIntensity",
        "min": 1,
    }
    assert "sliceName" not in element("Observation.component:painIntensity.code")


def test_reference_targets() -> None:
    assert reference_to("Patient", "https://x.example/StructureDefinition/p") == [
        {
            "code": "Reference",
            "targetProfile": [
                "http://hl7.org/fhir/StructureDefinition/Patient",
                "https://x.example/StructureDefinition/p",
            ],
        }
    ]


def test_identifier_slices() -> None:
    ids = [e["id"] for e in identifier_slices("Procedure")]
    assert ids == [
        "Procedure.identifier",
        "Procedure.identifier:discography",
        "Procedure.identifier:discography.value",
    ]


def test_coded_slice_uses_the_mappers_code() -> None:
    sliced, code = single_coded_slice(
        "Observation.category", "procedure", "P", OBSERVATION_CATEGORY_PROCEDURE
    )
    assert sliced["slicing"]["discriminator"] == [{"type": "pattern", "path": "$this"}]
    assert code["patternCodeableConcept"] == {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": "procedure",
            }
        ]
    }


def test_quantity_children() -> None:
    value, comparator, unit, system, code = quantity_elements(
        "X.value[x]", unit="psi", system="http://unitsofmeasure.org", code="[psi]", minimum=0
    )
    assert (value["min"], value["minValueDecimal"]) == (1, 0)
    assert "maxValueDecimal" not in value
    assert comparator["max"] == "0"
    assert (unit["fixedString"], system["fixedUri"], code["fixedCode"]) == (
        "psi",
        "http://unitsofmeasure.org",
        "[psi]",
    )


def test_declared_profile_invariant() -> None:
    invariant = declares_profile("https://x.example/p")
    assert invariant["expression"] == "meta.profile.where($this = 'https://x.example/p').exists()"
    assert invariant["source"] == "https://x.example/p"
