"""The files in conformance/ and the validator's view of them."""

import json
from pathlib import Path
from typing import Any

import pytest

from plugin.conformance.code_systems import code_system_resources
from plugin.conformance.differential import element as differential_element
from plugin.conformance.differential import pattern_slicing
from plugin.conformance.package import default_package, load_package
from plugin.conformance.structure_definition import Profile, structure_definition
from plugin.conformance.validator import validate_resource
from plugin.errors import ConfigurationError
from plugin.resources import conformance_dir

FILES = sorted(conformance_dir().glob("*.json"))


def read(path: Path) -> dict[str, Any]:
    resource: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return resource


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_file_is_valid_fhir_r4(path: Path) -> None:
    # Parses with the R4B model, has no element R4 lacks, breaks no base invariant.
    assert validate_resource(read(path)) == []


def test_every_required_binding_and_target_profile_resolves_in_the_package() -> None:
    package = default_package()
    for path in FILES:
        resource = read(path)
        if resource["resourceType"] != "StructureDefinition":
            continue
        for element in resource["snapshot"]["element"]:
            binding = element.get("binding")
            if binding and binding["strength"] == "required":
                assert package.value_set_codes(binding["valueSet"]), (element["id"], binding)
            for kind in element.get("type", []):
                for target in kind.get("targetProfile", []):
                    if target.startswith("https://discography-plugin.example/"):
                        assert target in package.profiles, (element["id"], target)


@pytest.mark.parametrize(
    "path", [p for p in FILES if p.name.startswith("StructureDefinition-")], ids=lambda p: p.name
)
def test_structure_definition_rules(path: Path) -> None:
    definition = read(path)
    snapshot = definition["snapshot"]["element"]
    ids = [e["id"] for e in snapshot]
    assert len(ids) == len(set(ids))
    for element in snapshot:
        # sdf-3, sdf-8, sdf-8b; eld-2
        assert element["definition"] and "min" in element and "max" in element, element["id"]
        assert element["path"].startswith(definition["type"])
        assert "base" in element
        assert element["max"] == "*" or element["min"] <= int(element["max"])
        # eld-6/eld-7: a fixed or pattern value only on an element of one type
        if any(k.startswith(("fixed", "pattern")) for k in element):
            assert len(element.get("type", [])) == 1, element["id"]
        # eld-5: a contentReference has no type
        assert not ("contentReference" in element and "type" in element)
    assert {e["id"] for e in definition["differential"]["element"]} <= set(ids)


def test_code_system_value_sets_expand_to_their_codes() -> None:
    package = default_package()
    for system in code_system_resources():
        codes = package.value_set_codes(system["valueSet"])
        assert codes == frozenset((system["url"], c["code"]) for c in system["concept"])


def _write(folder: Path, resource: dict[str, Any]) -> None:
    name = f"{resource['resourceType']}-{resource['id']}.json"
    (folder / name).write_text(json.dumps(resource), encoding="utf-8")


def test_the_validator_reads_any_structure_definition_in_the_folder(tmp_path: Path) -> None:
    """Generic over the folder's profiles: a site profile with a closed value slicing."""
    url = "https://site.example/fhir/StructureDefinition/site-patient"
    profile = Profile(
        id="site-patient",
        type="Patient",
        name="SitePatient",
        title="Site patient",
        description="A test profile.",
        differential=(
            differential_element(
                "Patient.identifier", min=1, slicing=pattern_slicing("$this", "by system")
            ),
            differential_element(
                "Patient.identifier:mrn",
                min=1,
                max="1",
                patternIdentifier={"system": "urn:oid:1.2.3"},
            ),
            differential_element("Patient.gender", min=1, fixedCode="female"),
        ),
    )
    definition = structure_definition(profile)
    definition["url"] = url
    _write(tmp_path, definition)
    package = load_package(tmp_path)
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "meta": {"profile": [url]},
        "identifier": [{"system": "urn:oid:1.2.3", "value": "42"}],
        "gender": "female",
    }
    assert validate_resource(patient, package=package) == []
    patient["gender"] = "male"
    patient["identifier"][0]["system"] = "urn:oid:9"
    found = {(i.path, i.rule) for i in validate_resource(patient, package=package)}
    assert found == {("Patient.gender", "fixed-value"), ("Patient.identifier", "min-cardinality")}


def test_value_set_expansion(tmp_path: Path) -> None:
    system = "https://site.example/cs"
    _write(
        tmp_path,
        {
            "resourceType": "CodeSystem",
            "id": "cs",
            "url": system,
            "status": "active",
            "content": "complete",
            "concept": [{"code": "a"}, {"code": "b"}, {"code": "c"}],
        },
    )
    value_sets: dict[str, dict[str, Any]] = {
        "whole": {
            "include": [{"system": system}],
            "exclude": [{"system": system, "concept": [{"code": "b"}]}],
        },
        "listed": {"include": [{"system": "http://loinc.org", "concept": [{"code": "777-3"}]}]},
        "external": {"include": [{"system": "http://snomed.info/sct"}]},
        "filtered": {
            "include": [{"system": system, "filter": [{"property": "x", "op": "=", "value": "y"}]}]
        },
    }
    for name, compose in value_sets.items():
        _write(
            tmp_path,
            {
                "resourceType": "ValueSet",
                "id": name,
                "url": f"urn:vs:{name}",
                "status": "active",
                "compose": compose,
            },
        )
    package = load_package(tmp_path)
    assert package.value_set_codes("urn:vs:whole") == frozenset({(system, "a"), (system, "c")})
    assert package.value_set_codes("urn:vs:listed") == frozenset({("http://loinc.org", "777-3")})
    assert package.value_set_codes("urn:vs:external") is None  # not held here: not checked
    assert package.value_set_codes("urn:vs:filtered") is None
    assert package.value_set_codes("urn:vs:unknown") is None


def test_unreadable_package_file_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "ValueSet-broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"ValueSet-broken\.json"):
        load_package(tmp_path)


def test_an_invariant_that_cannot_be_evaluated_is_reported(tmp_path: Path) -> None:
    url = "https://site.example/fhir/StructureDefinition/site-basic"
    broken = {"key": "site-1", "severity": "error", "human": "Site rule", "expression": "nope()"}
    profile = Profile(
        id="site-basic",
        type="Basic",
        name="SiteBasic",
        title="Site basic",
        description="A test profile.",
        differential=(differential_element("Basic", constraint=[broken]),),
    )
    definition = structure_definition(profile)
    definition["url"] = url
    _write(tmp_path, definition)
    basic = {"resourceType": "Basic", "meta": {"profile": [url]}, "code": {"text": "x"}}
    (issue,) = validate_resource(basic, package=load_package(tmp_path))
    assert (issue.path, issue.rule) == ("Basic", "site-1")
    assert issue.message == "invariant cannot be evaluated on this content: Site rule"
