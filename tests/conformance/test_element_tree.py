from plugin.conformance.canonicals import value_set_url
from plugin.conformance.element_tree import ElementNode, element_tree
from plugin.conformance.profiles.level_observation import level_observation_profile
from plugin.conformance.structure_definition import structure_definition


def level_tree() -> ElementNode:
    definition = structure_definition(level_observation_profile())
    return element_tree(definition["snapshot"]["element"])


def child(node: ElementNode | None, name: str) -> ElementNode:
    assert node is not None
    found = node.child(name)
    assert found is not None, name
    return found


def test_slices_hang_off_the_element_they_slice() -> None:
    component = child(level_tree(), "component")
    assert [s.definition["sliceName"] for s in component.slices][:3] == [
        "levelRole",
        "injectionOrder",
        "technicalResult",
    ]
    assert component.slicing_ordered and not component.slicing_closed
    assert [d.path for d in component.discriminators] == ["code"]
    assert [i.key for i in component.invariants] == ["dgm-cmp-1"]


def test_what_each_node_knows() -> None:
    root = level_tree()
    assert [i.key for i in root.invariants][-3:] == ["dgm-profile", "dgm-obs-1", "dgm-obs-2"]
    status = child(root, "status")
    assert status.fixed is None  # amendments write amended and entered-in-error too
    assert status.required_value_set == value_set_url("discography-observation-status")
    subject = child(root, "subject")
    assert (subject.minimum, subject.reference_targets) == (1, ("Patient",))
    assert child(root, "focus").reference_targets is None  # any resource
    interpretation = child(root, "interpretation")
    assert interpretation.maximum == 1 and interpretation.required_value_set is not None


def test_a_quantity_component() -> None:
    component = child(level_tree(), "component")
    pain = next(s for s in component.slices if s.definition["sliceName"] == "painIntensity")
    assert pain.fhirpath_type("component") == "Observation.component"
    value = child(pain, "value[x]")
    assert value.is_choice and value.type_codes == ("Quantity",)
    assert "String" in value.choice_suffixes  # recognised, then refused as a type
    assert value.fhirpath_type("valueQuantity") == "Quantity"
    number = child(value, "value")
    assert (number.minimum, number.min_value, number.max_value) == (1, 0, 10)
    assert child(value, "code").fixed == ("fixedCode", "{score}")
