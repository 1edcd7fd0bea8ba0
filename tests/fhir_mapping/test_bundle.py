from typing import Any

from plugin.fhir_mapping import map_study
from tests.fhir_mapping.examples import (
    ISSUED,
    example_study_data,
    interpretation_for,
    rendered_report,
    study_from,
)

SYSTEM = "https://discography-plugin.example/fhir/identifier/discography"


def bundle_from(data: dict[str, Any]) -> dict[str, Any]:
    study = study_from(data)
    mapped = map_study(study, interpretation_for(study), rendered_report(), issued=ISSUED)
    return mapped.transaction_bundle()


def shuffled_study() -> dict[str, Any]:
    """The example with its levels listed neither cranio-caudally nor in injection order."""
    data = example_study_data()
    data["levels"] = [data["levels"][1], data["levels"][2], data["levels"][0]]
    return data


def test_transaction_entries_in_contract_order() -> None:
    bundle = bundle_from(shuffled_study())
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "transaction"
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert kinds == ["Procedure"] + ["Observation"] * 3 + [
        "DiagnosticReport",
        "DocumentReference",
        "Provenance",
    ]
    levels = [entry["resource"]["bodySite"]["text"] for entry in bundle["entry"][1:4]]
    assert levels == [
        "L4-L5 intervertebral disc",
        "L5-S1 intervertebral disc",
        "L3-L4 intervertebral disc",
    ]


def test_requests_are_conditional_creates_on_the_business_identifier() -> None:
    for entry in bundle_from(example_study_data())["entry"]:
        resource, request = entry["resource"], entry["request"]
        assert request["method"] == "POST"
        assert request["url"] == resource["resourceType"]
        if resource["resourceType"] == "Provenance":
            [tag] = resource["meta"]["tag"]
            assert request["ifNoneExist"] == f"_tag={tag['system']}|{tag['code']}"
            assert tag["system"] == SYSTEM
        else:
            [identifier] = resource["identifier"]
            assert identifier["system"] == SYSTEM
            assert request["ifNoneExist"] == f"identifier={SYSTEM}|{identifier['value']}"


def test_ifnoneexist_strings_exactly() -> None:
    requests = [e["request"]["ifNoneExist"] for e in bundle_from(example_study_data())["entry"]]
    assert requests == [
        f"identifier={SYSTEM}|example-lumbar-1.procedure",
        f"identifier={SYSTEM}|example-lumbar-1.level.L3-L4",
        f"identifier={SYSTEM}|example-lumbar-1.level.L4-L5",
        f"identifier={SYSTEM}|example-lumbar-1.level.L5-S1",
        f"identifier={SYSTEM}|example-lumbar-1.report",
        f"identifier={SYSTEM}|example-lumbar-1.document",
        f"_tag={SYSTEM}|example-lumbar-1.provenance",
    ]


def references_in(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["reference"]] if isinstance(node.get("reference"), str) else []
        return found + [ref for value in node.values() for ref in references_in(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in references_in(item)]
    return []


def test_internal_references_resolve_to_the_intended_entries() -> None:
    bundle = bundle_from(shuffled_study())
    by_url = {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}
    assert len(by_url) == len(bundle["entry"])  # fullUrls are unique
    for url in by_url:
        assert url.startswith("urn:uuid:")
    for entry in bundle["entry"]:
        for reference in references_in(entry["resource"]):
            if reference.startswith("urn:"):
                assert reference in by_url, reference

    def kind(reference: str) -> str:
        resource_type: str = by_url[reference]["resourceType"]
        return resource_type

    procedure, *observations, report, document, provenance = (
        e["resource"] for e in bundle["entry"]
    )
    assert [kind(r["reference"]) for r in procedure["report"]] == ["DiagnosticReport"]
    for observation in observations:
        assert [kind(r["reference"]) for r in observation["partOf"]] == ["Procedure"]
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert [r["reference"] for r in report["result"]] == urls[1:4]
    assert [r["reference"] for r in document["context"]["related"]] == [urls[4]]
    assert [r["reference"] for r in provenance["target"]] == urls[:6]


def test_full_urls_are_stable_and_study_specific() -> None:
    first = [e["fullUrl"] for e in bundle_from(example_study_data())["entry"]]
    again = [e["fullUrl"] for e in bundle_from(example_study_data())["entry"]]
    other_data = example_study_data()
    other_data["id"] = "example-lumbar-2"
    other = [e["fullUrl"] for e in bundle_from(other_data)["entry"]]
    assert first == again
    assert not set(first) & set(other)
