from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from plugin.sandbox.behaviour import SandboxBehaviour
from plugin.sandbox.config import SandboxConfig
from plugin.sandbox.fhir.capability import OAUTH_URIS_EXTENSION, capability_statement
from plugin.sandbox.fhir.search_parameters import RESOURCE_TYPES

CONFIG = SandboxConfig(base_url="http://127.0.0.1:8000")


def test_the_statement_is_valid_fhir_r4_with_the_smart_oauth_uris() -> None:
    statement = capability_statement(CONFIG, SandboxBehaviour(), "2026-01-01T00:00:00.000Z")
    CapabilityStatement.model_validate(statement)
    assert statement["fhirVersion"] == "4.0.1"
    oauth = statement["rest"][0]["security"]["extension"][0]
    assert oauth["url"] == OAUTH_URIS_EXTENSION
    assert {e["url"]: e["valueUri"] for e in oauth["extension"]} == {
        "authorize": "http://127.0.0.1:8000/auth/authorize",
        "token": "http://127.0.0.1:8000/auth/token",
    }
    assert statement["rest"][0]["interaction"] == [{"code": "transaction"}]


def test_every_type_lists_its_interactions_and_search_parameters() -> None:
    statement = capability_statement(CONFIG, SandboxBehaviour(), "2026-01-01")
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(resources) == set(RESOURCE_TYPES)
    observation = resources["Observation"]
    assert {i["code"] for i in observation["interaction"]} == {
        "read", "vread", "history-instance", "search-type", "create", "update",
    }  # fmt: skip
    assert observation["conditionalCreate"] is True
    params = {p["name"]: p["type"] for p in observation["searchParam"]}
    assert params["patient"] == "reference"
    assert params["date"] == "date"
    assert params["code"] == "token"
    assert params["_id"] == "token"


def test_behaviour_switches_show_in_the_statement() -> None:
    behaviour = SandboxBehaviour(
        transactions=False, conditional_create=False, refuse_create=frozenset({"DiagnosticReport"})
    )
    statement = capability_statement(CONFIG, behaviour, "2026-01-01")
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert "interaction" not in statement["rest"][0]
    assert resources["Observation"]["conditionalCreate"] is False
    assert {"code": "create"} not in resources["DiagnosticReport"]["interaction"]
    assert resources["DiagnosticReport"]["updateCreate"] is False


def test_a_sandbox_without_versions_says_so() -> None:
    statement = capability_statement(CONFIG, SandboxBehaviour(versions=False), "2026-01-01")
    CapabilityStatement.model_validate(statement)
    observation = {r["type"]: r for r in statement["rest"][0]["resource"]}["Observation"]
    assert (observation["versioning"], observation["readHistory"]) == ("no-version", False)
    assert {i["code"] for i in observation["interaction"]} == {
        "read", "search-type", "create", "update",
    }  # fmt: skip
