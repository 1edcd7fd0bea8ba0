from typing import Any

import pytest

from plugin.conformance.differential import element, pattern_slicing
from plugin.conformance.snapshot import build_snapshot, in_specification_order

URL = "https://discography-plugin.example/fhir/StructureDefinition/test"


def by_id(snapshot: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in snapshot}


def test_constraints_merge_into_the_base_element() -> None:
    invariant = {"key": "t-1", "severity": "error", "human": "h", "expression": "true"}
    snapshot = by_id(
        build_snapshot(
            "Observation",
            [
                element("Observation", constraint=[invariant]),
                element("Observation.subject", min=1, mustSupport=True),
            ],
            URL,
        )
    )
    assert snapshot["Observation.subject"]["min"] == 1
    assert snapshot["Observation.subject"]["base"]["min"] == 0  # the base is kept
    assert snapshot["Observation.subject"]["mustSupport"] is True
    keys = [c["key"] for c in snapshot["Observation"]["constraint"]]
    assert keys == ["dom-2", "dom-4", "dom-5", "obs-6", "obs-7", "t-1"]
    assert snapshot["Observation"]["constraint"][-1]["source"] == URL


def test_a_slice_copies_the_element_and_its_children_after_it() -> None:
    snapshot = build_snapshot(
        "Observation",
        [
            element("Observation.component", slicing=pattern_slicing("code", "by code")),
            element("Observation.component:pain", min=1, max="1"),
            element("Observation.component:pain.value[x]", type=[{"code": "Quantity"}]),
            element("Observation.component:pain.value[x].code", fixedCode="{score}"),
        ],
        URL,
    )
    ids = [e["id"] for e in snapshot]
    start = ids.index("Observation.component:pain")
    assert ids[start - 1] == "Observation.component.referenceRange"  # after the whole element
    assert ids[start + 1 : start + 5] == [
        "Observation.component:pain.id",
        "Observation.component:pain.extension",
        "Observation.component:pain.modifierExtension",
        "Observation.component:pain.code",
    ]
    elements = by_id(snapshot)
    pain = elements["Observation.component:pain"]
    assert (pain["sliceName"], pain["min"], pain["max"]) == ("pain", 1, "1")
    assert "slicing" not in pain and "slicing" in elements["Observation.component"]
    assert pain["path"] == "Observation.component"
    code = elements["Observation.component:pain.value[x].code"]
    assert (code["path"], code["fixedCode"]) == ("Observation.component.value[x].code", "{score}")
    value = ids.index("Observation.component:pain.value[x]")
    assert ids[value + 1] == "Observation.component:pain.value[x].id"  # children right after


@pytest.mark.parametrize(
    ("differential", "message"),
    [
        ([element("Observation.status", min=0)], "below the base min"),
        ([element("Observation.subject", max="*")], "above the base max"),
        ([element("Observation.code", min=2)], "min 2 exceeds max 1"),
        ([element("Observation.colour")], "no such element"),
        ([element("Observation.component:pain")], "must declare slicing"),
        ([element("Observation.code", type=[{"code": "Quantity"}])], "not among the base types"),
        ([element("Observation.value[x].code")], "constrain it to one datatype first"),
        ([element("Observation.status.value")], "no such element"),
        ([element("Observation.code.colour")], "no such element"),
    ],
)
def test_a_differential_that_cannot_apply_is_refused(
    differential: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build_snapshot("Observation", differential, URL)


def test_elements_are_written_in_element_definition_order() -> None:
    ordered = in_specification_order(
        {"min": 1, "patternCoding": {}, "id": "x", "binding": {}, "path": "x", "sliceName": "s"}
    )
    assert list(ordered) == ["id", "path", "sliceName", "min", "patternCoding", "binding"]
