from typing import Any

from plugin.conformance.examples import example_resources, stored_form


def test_the_bundle_then_each_resource_as_stored() -> None:
    bundle, *stored = example_resources()
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "transaction"
    assert bundle["id"] == "example-lumbar-1.transaction"
    assert [r["resourceType"] for r in stored] == [
        e["resource"]["resourceType"] for e in bundle["entry"]
    ]
    assert [r["id"] for r in stored] == [
        "example-lumbar-1.procedure",
        "example-lumbar-1.level.L3-L4",
        "example-lumbar-1.level.L4-L5",
        "example-lumbar-1.level.L5-S1",
        "example-lumbar-1.report",
        "example-lumbar-1.document",
        "example-lumbar-1.provenance",
    ]


def test_stored_form_turns_bundle_references_into_type_and_id() -> None:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:1",
                "resource": {"resourceType": "Procedure", "identifier": [{"value": "k.procedure"}]},
            },
            {
                "fullUrl": "urn:uuid:2",
                "resource": {
                    "resourceType": "Provenance",
                    "meta": {"tag": [{"code": "k.provenance"}]},
                    "target": [{"reference": "urn:uuid:1"}, {"reference": "Patient/p"}],
                },
            },
        ],
    }
    procedure, provenance = stored_form(bundle)
    assert procedure == {
        "resourceType": "Procedure",
        "id": "k.procedure",
        "identifier": [{"value": "k.procedure"}],
    }
    assert provenance["id"] == "k.provenance"
    assert provenance["target"] == [
        {"reference": "Procedure/k.procedure"},
        {"reference": "Patient/p"},
    ]
    assert bundle["entry"][1]["resource"]["target"][0]["reference"] == "urn:uuid:1"  # unchanged
