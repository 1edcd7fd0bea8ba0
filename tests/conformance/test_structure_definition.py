from plugin.conformance.differential import element
from plugin.conformance.structure_definition import Profile, structure_definition


def test_structure_definition_of_a_profile() -> None:
    profile = Profile(
        id="discography-test",
        type="Procedure",
        name="DiscographyTest",
        title="Test",
        description="A test profile.",
        differential=(element("Procedure.encounter", min=1, mustSupport=True),),
    )
    definition = structure_definition(profile)
    assert definition["url"] == (
        "https://discography-plugin.example/fhir/StructureDefinition/discography-test"
    )
    assert (definition["fhirVersion"], definition["kind"], definition["derivation"]) == (
        "4.0.1",
        "resource",
        "constraint",
    )
    assert definition["baseDefinition"] == "http://hl7.org/fhir/StructureDefinition/Procedure"
    assert definition["differential"]["element"] == [
        {"id": "Procedure.encounter", "path": "Procedure.encounter", "min": 1, "mustSupport": True}
    ]
    snapshot = definition["snapshot"]["element"]
    assert snapshot[0]["id"] == "Procedure"
    encounter = next(e for e in snapshot if e["id"] == "Procedure.encounter")
    assert encounter["min"] == 1 and encounter["base"]["min"] == 0
