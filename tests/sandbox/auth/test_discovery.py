from tests.sandbox.conftest import BASE, FHIR, Sandbox


async def test_smart_configuration_lists_what_the_sandbox_does(sandbox: Sandbox) -> None:
    response = await sandbox.http.get("/fhir/.well-known/smart-configuration")
    assert response.status_code == 200
    config = response.json()
    assert config["authorization_endpoint"] == f"{BASE}/auth/authorize"
    assert config["token_endpoint"] == f"{BASE}/auth/token"
    assert config["jwks_uri"] == f"{BASE}/auth/jwks"
    assert config["issuer"] == f"{BASE}/auth"
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert config["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert config["token_endpoint_auth_signing_alg_values_supported"] == ["RS384", "ES384"]
    assert set(config["token_endpoint_auth_methods_supported"]) == {
        "private_key_jwt",
        "client_secret_basic",
    }
    assert {
        "launch-ehr", "launch-standalone", "client-public", "client-confidential-symmetric",
        "client-confidential-asymmetric", "context-ehr-patient", "context-ehr-encounter",
        "context-standalone-patient", "context-banner", "context-style", "permission-offline",
        "permission-patient", "permission-user", "permission-v1", "permission-v2",
        "sso-openid-connect",
    } <= set(config["capabilities"])  # fmt: skip
    assert "plain" not in config["code_challenge_methods_supported"]
    assert {"openid", "fhirUser", "launch", "launch/patient"} <= set(config["scopes_supported"])


async def test_openid_configuration_sits_under_the_issuer(sandbox: Sandbox) -> None:
    smart = (await sandbox.http.get("/fhir/.well-known/smart-configuration")).json()
    response = await sandbox.http.get(
        smart["issuer"].removeprefix(BASE) + "/.well-known/openid-configuration"
    )
    openid = response.json()
    assert openid["issuer"] == smart["issuer"]
    assert openid["jwks_uri"] == smart["jwks_uri"]
    assert openid["id_token_signing_alg_values_supported"] == ["RS256"]


async def test_the_jwks_publishes_only_the_public_rs256_key(sandbox: Sandbox) -> None:
    keys = (await sandbox.http.get("/auth/jwks")).json()["keys"]
    assert len(keys) == 1
    assert keys[0]["alg"] == "RS256" and keys[0]["kty"] == "RSA" and keys[0]["kid"]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(keys[0])


async def test_metadata_points_at_the_same_endpoints(sandbox: Sandbox) -> None:
    statement = (await sandbox.http.get(f"{FHIR}/metadata")).json()
    extension = statement["rest"][0]["security"]["extension"][0]["extension"]
    assert {e["url"]: e["valueUri"] for e in extension}["token"] == f"{BASE}/auth/token"
