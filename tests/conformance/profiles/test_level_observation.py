from typing import Any

from plugin.conformance.level_components import LEVEL_COMPONENTS, ComponentValue
from plugin.conformance.profiles.level_observation import level_observation_profile
from plugin.terminology import code_system_url


def differential() -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in level_observation_profile().differential}


def test_one_slice_per_component_by_pattern_on_code() -> None:
    elements = differential()
    slicing = elements["Observation.component"]["slicing"]
    assert slicing["discriminator"] == [{"type": "pattern", "path": "code"}]
    assert slicing["ordered"] is True
    slices = [
        e["sliceName"]
        for e in level_observation_profile().differential
        if "sliceName" in e and e["path"] == "Observation.component"
    ]
    assert slices == [c.slice_name for c in LEVEL_COMPONENTS]
    for component in LEVEL_COMPONENTS:
        code = elements[f"Observation.component:{component.slice_name}.code"]
        assert code["patternCodeableConcept"] == {
            "coding": [{"system": component.system, "code": component.code}]
        }


def test_each_component_value_is_typed_and_bound() -> None:
    elements = differential()
    for component in LEVEL_COMPONENTS:
        value = elements[f"Observation.component:{component.slice_name}.value[x]"]
        assert value["type"] == [{"code": component.value.value}]
        if component.value is ComponentValue.CODEABLE_CONCEPT:
            assert value["binding"]["strength"] == "required"
            assert value["binding"]["valueSet"].endswith(f"/ValueSet/{component.value_set}")
        if component.value is ComponentValue.QUANTITY:
            unit = f"Observation.component:{component.slice_name}.value[x]"
            assert elements[f"{unit}.code"]["fixedCode"] == component.ucum
            assert elements[f"{unit}.system"]["fixedUri"] == "http://unitsofmeasure.org"


def test_the_observation_itself() -> None:
    elements = differential()
    assert elements["Observation.value[x]"]["max"] == "0"
    assert elements["Observation.code"]["patternCodeableConcept"] == {
        "coding": [{"system": code_system_url("discography"), "code": "disc-level-result"}]
    }
    keys = [c["key"] for c in elements["Observation"]["constraint"]]
    assert keys == ["dgm-profile", "dgm-obs-1", "dgm-obs-2"]
