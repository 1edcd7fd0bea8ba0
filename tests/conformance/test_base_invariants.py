from plugin.conformance.base_invariants import base_invariants
from plugin.conformance.fhirpath_invariants import compile_invariant


def test_domain_resources_inherit_the_domain_resource_invariants() -> None:
    assert [i.key for i in base_invariants("Observation")] == [
        "dom-2",
        "dom-4",
        "dom-5",
        "obs-6",
        "obs-7",
    ]
    assert [i.key for i in base_invariants("Procedure")] == ["dom-2", "dom-4", "dom-5"]
    assert [i.key for i in base_invariants("Bundle")] == ["bdl-1", "bdl-2", "bdl-3", "bdl-4"]


def test_every_invariant_compiles_and_names_its_source() -> None:
    for resource_type in ("Observation", "Bundle"):
        for invariant in base_invariants(resource_type):
            compile_invariant(invariant.as_constraint())
            assert invariant.source.startswith("http://hl7.org/fhir/StructureDefinition/")


def test_contained_resources_may_not_nest() -> None:
    dom_2 = compile_invariant(base_invariants("Observation")[0].as_constraint())
    nested = {
        "resourceType": "Observation",
        "contained": [{"resourceType": "Patient", "contained": [{"resourceType": "Patient"}]}],
    }
    assert dom_2.holds(nested, "Observation", nested) is False
