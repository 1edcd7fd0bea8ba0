import pytest

from plugin.fhir_mapping.coding import (
    PROVENANCE_AGENT_ASSEMBLER,
    DataAbsentReason,
    data_absent,
    disc_concept,
    hl7_concept,
    product_concept,
    standard_concept,
    ucum_quantity,
)


def test_standard_codes_carry_no_display_and_their_name_as_text() -> None:
    concept = standard_concept("loinc", "72514-3").model_dump(exclude_none=True)
    assert concept == {
        "coding": [{"system": "http://loinc.org", "code": "72514-3"}],
        "text": "Pain severity, 0-10 numeric rating",
    }


def test_a_standard_code_not_in_the_mappings_is_refused() -> None:
    with pytest.raises(KeyError):
        standard_concept("loinc", "12345-6")


def test_product_codes_carry_the_product_display() -> None:
    concept = product_concept("level-role", "control", text="free text").model_dump(
        exclude_none=True
    )
    assert concept == {
        "coding": [
            {
                "system": "https://discography-plugin.example/fhir/CodeSystem/level-role",
                "code": "control",
                "display": "Control",
            }
        ],
        "text": "free text",
    }


def test_an_unknown_product_code_is_refused() -> None:
    with pytest.raises(KeyError):
        product_concept("level-role", "target")


def test_disc_concept_is_the_snomed_disc_with_the_level_as_text() -> None:
    concept = disc_concept("C5-C6").model_dump(exclude_none=True)
    assert concept == {
        "coding": [{"system": "http://snomed.info/sct", "code": "73959003"}],
        "text": "C5-C6 intervertebral disc",
    }


def test_ucum_quantity_uses_the_listed_ucum_code() -> None:
    quantity = ucum_quantity(12.5, "[psi]", unit="psi").model_dump(mode="json", exclude_none=True)
    assert quantity == {
        "value": 12.5,
        "unit": "psi",
        "system": "http://unitsofmeasure.org",
        "code": "[psi]",
    }
    with pytest.raises(KeyError):
        ucum_quantity(1.0, "kPa", unit="kPa")


def test_hl7_and_data_absent_concepts() -> None:
    assert hl7_concept(PROVENANCE_AGENT_ASSEMBLER).model_dump(exclude_none=True) == {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                "code": "assembler",
            }
        ]
    }
    absent = data_absent(DataAbsentReason.NOT_PERFORMED).model_dump(mode="json", exclude_none=True)
    assert absent == {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                "code": "not-performed",
            }
        ]
    }
