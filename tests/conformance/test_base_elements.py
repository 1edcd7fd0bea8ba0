import json
from pathlib import Path

import fhirpathpy
import pytest

from plugin.conformance.base_elements import base_elements, datatype_children

_R4 = Path(fhirpathpy.__file__).parent / "models" / "r4"
_PATHS: dict[str, str] = json.loads((_R4 / "path2Type.json").read_text(encoding="utf-8"))
_ELSEWHERE: dict[str, str] = json.loads(
    (_R4 / "pathsDefinedElsewhere.json").read_text(encoding="utf-8")
)


def _r4_paths(type_name: str) -> set[str]:
    """Every element path of `type_name` in R4, backbone elements included."""
    paths = {p for p in _PATHS if p.startswith(type_name + ".")}
    paths |= {".".join(p.split(".")[:end]) for p in paths for end in range(2, len(p.split(".")))}
    return paths | {p for p in _ELSEWHERE if p.startswith(type_name + ".")}


def _derived_paths(type_name: str) -> set[str]:
    """The element paths a snapshot of `type_name` describes, choices spelled out."""
    paths = set()
    for element in base_elements(type_name)[1:]:
        path = element["path"]
        if path.endswith("[x]"):
            stem = path[:-3]
            paths |= {stem + t["code"][:1].upper() + t["code"][1:] for t in element["type"]}
        else:
            paths.add(path)
    return paths


@pytest.mark.parametrize(
    "type_name",
    [
        "Observation",
        "Procedure",
        "DiagnosticReport",
        "DocumentReference",
        "Provenance",
        "Bundle",
        "StructureDefinition",
        "CodeSystem",
        "ValueSet",
        "CapabilityStatement",
        "Quantity",
        "Attachment",
    ],
)
def test_derived_elements_are_exactly_r4s(type_name: str) -> None:
    assert _derived_paths(type_name) == _r4_paths(type_name)


def test_r4b_only_types_of_a_choice_are_left_out() -> None:
    value = next(e for e in base_elements("Extension") if e["path"] == "Extension.value[x]")
    codes = [t["code"] for t in value["type"]]
    assert "RatioRange" not in codes and "CodeableReference" not in codes
    assert "Meta" in codes  # R4 has it, R4B dropped it


@pytest.mark.parametrize(
    ("path", "cardinality"),
    [
        ("Observation", (0, "*")),
        ("Observation.status", (1, "1")),
        ("Observation.code", (1, "1")),
        ("Observation.component", (0, "*")),
        ("Observation.component.code", (1, "1")),
        ("Observation.effective[x]", (0, "1")),
    ],
)
def test_cardinalities(path: str, cardinality: tuple[int, str]) -> None:
    element = next(e for e in base_elements("Observation") if e["path"] == path)
    assert (element["min"], element["max"]) == cardinality
    assert (element["base"]["min"], element["base"]["max"]) == cardinality


@pytest.mark.parametrize(
    ("type_name", "path", "cardinality"),
    [
        ("Provenance", "Provenance.target", (1, "*")),
        ("Provenance", "Provenance.agent", (1, "*")),
        ("Provenance", "Provenance.agent.who", (1, "1")),
        ("DocumentReference", "DocumentReference.content", (1, "*")),
        ("Bundle", "Bundle.entry.request.method", (1, "1")),
    ],
)
def test_required_elements_of_other_types(
    type_name: str, path: str, cardinality: tuple[int, str]
) -> None:
    element = next(e for e in base_elements(type_name) if e["path"] == path)
    assert (element["min"], element["max"]) == cardinality


def test_elements_follow_the_specification_order_and_carry_text() -> None:
    paths = [e["path"] for e in base_elements("Observation")]
    assert paths.index("Observation.identifier") < paths.index("Observation.status")
    assert paths.index("Observation.status") < paths.index("Observation.code")
    assert paths.index("Observation.code") < paths.index("Observation.component")
    for element in base_elements("Observation"):
        assert element["short"] and element["definition"]
    root = base_elements("Observation")[0]
    assert root["short"] == "Measurements and simple assertions"


def test_types() -> None:
    by_path = {e["path"]: e for e in base_elements("Observation")}
    assert by_path["Observation.id"]["type"] == [{"code": "id"}]
    assert by_path["Observation.component.id"]["type"] == [{"code": "string"}]
    assert by_path["Observation.component"]["type"] == [{"code": "BackboneElement"}]
    assert by_path["Observation.subject"]["type"] == [{"code": "Reference"}]
    assert [t["code"] for t in by_path["Observation.effective[x]"]["type"]] == [
        "dateTime",
        "Period",
        "Timing",
        "instant",
    ]
    assert by_path["Observation.status"]["isSummary"] is True


def test_a_backbone_met_again_is_a_content_reference() -> None:
    element = next(
        e
        for e in base_elements("Observation")
        if e["path"] == "Observation.component.referenceRange"
    )
    assert element["contentReference"] == "#Observation.referenceRange"
    assert "type" not in element
    concept = next(
        e for e in base_elements("CodeSystem") if e["path"] == "CodeSystem.concept.concept"
    )
    assert concept["contentReference"] == "#CodeSystem.concept"


def test_base_elements_returns_a_fresh_copy() -> None:
    base_elements("Observation")[1]["min"] = 5
    assert base_elements("Observation")[1]["min"] == 0


def test_datatype_children_are_placed_under_the_element() -> None:
    children = datatype_children(
        "Quantity", "Observation.component.value[x]", "Observation.component:x.value[x]"
    )
    assert [c["id"] for c in children] == [
        "Observation.component:x.value[x].id",
        "Observation.component:x.value[x].extension",
        "Observation.component:x.value[x].value",
        "Observation.component:x.value[x].comparator",
        "Observation.component:x.value[x].unit",
        "Observation.component:x.value[x].system",
        "Observation.component:x.value[x].code",
    ]
    assert children[2]["path"] == "Observation.component.value[x].value"
    assert children[2]["base"]["path"] == "Quantity.value"
