from plugin.conformance.code_systems import code_system_resources, computable_name
from plugin.terminology import PRODUCT_CODE_SYSTEMS


def test_one_code_system_per_product_system() -> None:
    resources = code_system_resources()
    assert [r["id"] for r in resources] == list(PRODUCT_CODE_SYSTEMS)
    for resource in resources:
        system = PRODUCT_CODE_SYSTEMS[resource["id"]]
        assert resource["url"] == system.url
        assert (resource["status"], resource["content"], resource["caseSensitive"]) == (
            "active",
            "complete",
            True,
        )
        assert resource["version"] == "1.1.0"
        assert resource["count"] == len(system.concepts)
        assert [(c["code"], c["display"], c["definition"]) for c in resource["concept"]] == list(
            system.concepts
        )
        assert resource["valueSet"].endswith(f"/ValueSet/{system.id}")


def test_computable_names() -> None:
    assert computable_name("pain-response") == "PainResponse"
    assert computable_name("discography") == "Discography"
