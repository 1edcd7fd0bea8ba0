"""The authorization server end to end: authorize → code → token → FHIR, and every refusal."""

from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from plugin.sandbox.config import ClientAuthMethod, SandboxClient
from tests.sandbox.conftest import (
    BASE,
    FHIR,
    PUBLIC_CLIENT,
    REDIRECT,
    Sandbox,
    SandboxFactory,
    authorize_params,
    pkce_pair,
    redirect_query,
)

TOKEN_URL = f"{BASE}/auth/token"
EC_KEY = ECKey.generate_key("P-384")
RSA_KEY = RSAKey.generate_key(2048)


def public_jwks(*keys: ECKey | RSAKey) -> dict[str, Any]:
    return {"keys": [{**k.as_dict(private=False), "kid": k.thumbprint()} for k in keys]}


ASYMMETRIC_CLIENT = SandboxClient(
    client_id="asymmetric-app",
    auth_method=ClientAuthMethod.PRIVATE_KEY_JWT,
    redirect_uris=[REDIRECT],
    jwks=public_jwks(EC_KEY, RSA_KEY),
)
SYMMETRIC_CLIENT = SandboxClient(
    client_id="symmetric-app",
    auth_method=ClientAuthMethod.CLIENT_SECRET_BASIC,
    redirect_uris=[REDIRECT],
    client_secret="s3cret-value",
)


def assertion(
    key: ECKey | RSAKey,
    alg: str,
    *,
    client_id: str = "asymmetric-app",
    aud: str = TOKEN_URL,
    expires_in: int = 120,
    jti: str | None = None,
    header: dict[str, Any] | None = None,
) -> str:
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "exp": int(time.time()) + expires_in,
        "jti": jti or str(uuid.uuid4()),
    }
    headers = {"alg": alg, "kid": key.thumbprint(), "typ": "JWT", **(header or {})}
    return jwt.encode(headers, claims, key, algorithms=[alg])


async def get_code(sandbox: Sandbox, verifier_challenge: tuple[str, str], **params: str) -> str:
    response = await sandbox.http.get(
        "/auth/authorize", params=authorize_params(verifier_challenge[1], **params)
    )
    return redirect_query(response)["code"]


def code_form(code: str, verifier: str, **extra: str) -> dict[str, str]:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    form.update(extra)
    return form


async def auto_sandbox(make_sandbox: SandboxFactory, **overrides: Any) -> Sandbox:
    settings: dict[str, Any] = {
        "auto_consent": True,
        "standalone_patient": "cervical-candidate",
        "clients": [PUBLIC_CLIENT, ASYMMETRIC_CLIENT, SYMMETRIC_CLIENT],
    }
    settings.update(overrides)
    return await make_sandbox(**settings)


# -- the happy paths ----------------------------------------------------------------------


async def test_ehr_launch_binds_patient_encounter_and_user(make_sandbox: SandboxFactory) -> None:
    sandbox = await auto_sandbox(make_sandbox)
    launch = await sandbox.ehr.launch("public-app", "lumbar-candidate", "referring-physiatrist")
    verifier, challenge = pkce_pair()
    code = await get_code(
        sandbox,
        (verifier, challenge),
        launch=launch.id,
        scope="launch openid fhirUser offline_access patient/*.rs",
        nonce="n-123",
    )
    response = await sandbox.http.post(
        "/auth/token", data=code_form(code, verifier, client_id="public-app")
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    token = response.json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert token["scope"] == "launch openid fhirUser offline_access patient/*.rs"
    assert token["patient"] == "lumbar-candidate"
    assert token["encounter"] == "lumbar-candidate-enc-02"  # today's in-progress visit
    assert token["need_patient_banner"] is True
    assert token["smart_style_url"] == f"{BASE}/ehr/smart-style.json"
    assert token["refresh_token"]
    # The id_token verifies with the published JWKS and names the launching user.
    jwks = KeySet.import_key_set((await sandbox.http.get("/auth/jwks")).json())
    claims = jwt.decode(token["id_token"], jwks).claims
    assert claims["iss"] == f"{BASE}/auth"
    assert claims["aud"] == "public-app"
    assert claims["sub"] == "referring-physiatrist"
    assert claims["fhirUser"] == f"{FHIR}/Practitioner/referring-physiatrist"
    assert claims["nonce"] == "n-123"
    assert claims["exp"] > claims["iat"]
    # And the access token reads the chart.
    chart = await sandbox.http.get(
        "/fhir/Observation",
        params={"patient": "lumbar-candidate"},
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert chart.status_code == 200
    assert chart.json()["total"] == 8


async def test_standalone_launch_with_the_patient_picker_and_consent(
    make_sandbox: SandboxFactory,
) -> None:
    sandbox = await make_sandbox()  # consent shown, no preset patient
    verifier, challenge = pkce_pair()
    params = authorize_params(challenge)
    picker = await sandbox.http.get("/auth/authorize", params=params)
    assert picker.status_code == 200
    # Browsers apply form-action to the redirect a form ends in: the app's origin is allowed.
    assert "form-action 'self' http://127.0.0.1:9000;" in picker.headers["content-security-policy"]
    assert picker.text.count('type="radio" name="patient"') == 9
    request_id = re.search(r'name="request_id" value="([^"]+)"', picker.text)
    assert request_id is not None
    consent = await sandbox.http.post(
        "/auth/authorize/patient", data={"request_id": request_id[1], "patient": "no-spine-mri"}
    )
    assert consent.status_code == 200
    assert "Testpatient, No-Spine-MRI" in consent.text
    assert "<code>patient/*.rs</code>" in consent.text
    consent_id = re.search(r'name="request_id" value="([^"]+)"', consent.text)
    assert consent_id is not None and consent_id[1] != request_id[1]
    allowed = await sandbox.http.post(
        "/auth/authorize/consent", data={"request_id": consent_id[1], "decision": "allow"}
    )
    query = redirect_query(allowed)
    assert query["state"] == params["state"]
    token = await sandbox.http.post(
        "/auth/token", data=code_form(query["code"], verifier, client_id="public-app")
    )
    assert token.json()["patient"] == "no-spine-mri"
    assert "encounter" not in token.json()
    # The consent form cannot be replayed.
    replay = await sandbox.http.post(
        "/auth/authorize/consent", data={"request_id": consent_id[1], "decision": "allow"}
    )
    assert replay.status_code == 400


async def test_authorize_by_post(make_sandbox: SandboxFactory) -> None:
    sandbox = await auto_sandbox(make_sandbox)
    verifier, challenge = pkce_pair()
    response = await sandbox.http.post("/auth/authorize", data=authorize_params(challenge))
    code = redirect_query(response)["code"]
    token = await sandbox.http.post(
        "/auth/token", data=code_form(code, verifier, client_id="public-app")
    )
    assert token.json()["patient"] == "cervical-candidate"


async def test_consent_denied_redirects_with_access_denied(sandbox: Sandbox) -> None:
    _, challenge = pkce_pair()
    launch = await sandbox.ehr.launch("public-app", "pregnant", "spine-proceduralist")
    params = authorize_params(challenge, launch=launch.id, scope="launch patient/*.rs")
    page = await sandbox.http.get("/auth/authorize", params=params)
    request_id = re.search(r'name="request_id" value="([^"]+)"', page.text)
    assert request_id is not None
    denied = await sandbox.http.post(
        "/auth/authorize/consent", data={"request_id": request_id[1], "decision": "deny"}
    )
    query = redirect_query(denied)
    assert query["error"] == "access_denied"
    assert query["state"] == params["state"]
    assert "code" not in query


async def test_withheld_scopes_are_left_out_of_the_grant(make_sandbox: SandboxFactory) -> None:
    sandbox = await auto_sandbox(
        make_sandbox, withheld_scopes=["patient/DiagnosticReport.c", "offline_access"]
    )
    verifier, challenge = pkce_pair()
    code = await get_code(
        sandbox,
        (verifier, challenge),
        scope="launch/patient patient/Observation.rs patient/DiagnosticReport.c offline_access "
        "system/*.read nonsense",
    )
    token = await sandbox.http.post(
        "/auth/token", data=code_form(code, verifier, client_id="public-app")
    )
    assert token.json()["scope"] == "launch/patient patient/Observation.rs"
    assert "refresh_token" not in token.json()


# -- PKCE and the code --------------------------------------------------------------------


async def test_a_wrong_code_verifier_is_invalid_grant(make_sandbox: SandboxFactory) -> None:
    sandbox = await auto_sandbox(make_sandbox)
    verifier, challenge = pkce_pair()
    code = await get_code(sandbox, (verifier, challenge))
    other_verifier, _ = pkce_pair()
    response = await sandbox.http.post(
        "/auth/token", data=code_form(code, other_verifier, client_id="public-app")
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_a_missing_code_verifier_is_refused(make_sandbox: SandboxFactory) -> None:
    sandbox = await auto_sandbox(make_sandbox)
    verifier, challenge = pkce_pair()
    code = await get_code(sandbox, (verifier, challenge))
    form = code_form(code, verifier, client_id="public-app")
    del form["code_verifier"]
    response = await sandbox.http.post("/auth/token", data=form)
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("change", "description"),
    [
        ({"code_challenge": ""}, "code_challenge is required"),
        ({"code_challenge_method": "plain"}, "code_challenge_method must be S256"),
        ({"code_challenge_method": ""}, "code_challenge_method must be S256"),
        ({"state": ""}, "state is required"),
        ({"aud": "https://elsewhere.example/fhir"}, "aud must be the FHIR base"),
        ({"aud": ""}, "aud must be the FHIR base"),
        ({"launch": "not-a-launch", "scope": "launch patient/*.rs"}, "launch is unknown"),
        ({"scope": "launch patient/*.rs"}, "the launch scope needs the launch parameter"),
    ],
)
async def test_bad_authorization_requests_return_to_the_app_with_an_error(
    make_sandbox: SandboxFactory, change: dict[str, str], description: str
) -> None:
    sandbox = await auto_sandbox(make_sandbox)
    _, challenge = pkce_pair()
    params = authorize_params(challenge, **change)
    response = await sandbox.http.get("/auth/authorize", params=params)
    query = redirect_query(response)
    assert query["error"] in ("invalid_request", "invalid_scope")
    assert description in query["error_description"]
    assert "code" not in query


async def test_a_launch_parameter_needs_the_launch_scope(make_sandbox: SandboxFactory) -> None:
    sandbox = await auto_sandbox(make_sandbox)
    launch = await sandbox.ehr.launch("public-app", "pregnant", "spine-proceduralist")
    _, challenge = pkce_pair()
    response = await sandbox.http.get(
        "/auth/authorize", params=authorize_params(challenge, launch=launch.id)
    )
    assert redirect_query(response)["error"] == "invalid_scope"


async def test_a_launch_for_another_client_is_refused(make_sandbox: SandboxFactory) -> None:
    sandbox = await auto_sandbox(make_sandbox)
    launch = await sandbox.ehr.launch("asymmetric-app", "pregnant", "spine-proceduralist")
    _, challenge = pkce_pair()
    response = await sandbox.http.get(
        "/auth/authorize",
        params=authorize_params(challenge, launch=launch.id, scope="launch patient/*.rs"),
    )
    assert "launch is unknown" in redirect_query(response)["error_description"]


async def test_an_unregistered_redirect_uri_is_never_redirected_to(
    make_sandbox: SandboxFactory,
) -> None:
    sandbox = await auto_sandbox(make_sandbox)
    _, challenge = pkce_pair()
    for redirect in ("https://attacker.example/cb", REDIRECT + "/extra", REDIRECT + "?x=1"):
        response = await sandbox.http.get(
            "/auth/authorize", params=authorize_params(challenge, redirect_uri=redirect)
        )
        assert response.status_code == 400
        assert "location" not in response.headers
        assert "invalid_request" in response.text
    unknown_client = await sandbox.http.get(
        "/auth/authorize", params=authorize_params(challenge, client_id="who")
    )
    assert unknown_client.status_code == 400 and "location" not in unknown_client.headers
    wrong_type = await sandbox.http.get(
        "/auth/authorize", params=authorize_params(challenge, response_type="token")
    )
    assert redirect_query(wrong_type)["error"] == "unsupported_response_type"


async def test_a_code_is_used_once_and_replay_revokes_its_tokens(
    make_sandbox: SandboxFactory,
) -> None:
    sandbox = await auto_sandbox(make_sandbox)
    verifier, challenge = pkce_pair()
    code = await get_code(sandbox, (verifier, challenge))
    form = code_form(code, verifier, client_id="public-app")
    first = await sandbox.http.post("/auth/token", data=form)
    access = first.json()["access_token"]
    replay = await sandbox.http.post("/auth/token", data=form)
    assert replay.json()["error"] == "invalid_grant"
    read = await sandbox.http.get(
        "/fhir/Patient/cervical-candidate", headers={"Authorization": f"Bearer {access}"}
    )
    assert read.status_code == 401


async def test_an_expired_code_is_refused(make_sandbox: SandboxFactory) -> None:
    sandbox = await auto_sandbox(make_sandbox)
    verifier, challenge = pkce_pair()
    code = await get_code(sandbox, (verifier, challenge))
    later = sandbox.ehr.now() + timedelta(seconds=61)
    sandbox.ehr.clock = lambda: later
    response = await sandbox.http.post(
        "/auth/token", data=code_form(code, verifier, client_id="public-app")
    )
    assert response.json()["error"] == "invalid_grant"


async def test_a_code_for_one_client_is_useless_to_another(make_sandbox: SandboxFactory) -> None:
    sandbox = await auto_sandbox(make_sandbox)
    verifier, challenge = pkce_pair()
    code = await get_code(sandbox, (verifier, challenge))
    response = await sandbox.http.post(
        "/auth/token",
        data=code_form(code, verifier),
        auth=("symmetric-app", "s3cret-value"),
    )
    assert response.json()["error"] == "invalid_grant"


# -- client authentication ----------------------------------------------------------------


async def test_a_public_client_must_name_itself(make_sandbox: SandboxFactory) -> None:
    sandbox = await auto_sandbox(make_sandbox)
    verifier, challenge = pkce_pair()
    code = await get_code(sandbox, (verifier, challenge))
    response = await sandbox.http.post("/auth/token", data=code_form(code, verifier))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_client_secret_basic(make_sandbox: SandboxFactory) -> None:
    sandbox = await auto_sandbox(make_sandbox)
    verifier, challenge = pkce_pair()
    wrong_code = await get_code(sandbox, (verifier, challenge), client_id="symmetric-app")
    wrong = await sandbox.http.post(
        "/auth/token", data=code_form(wrong_code, verifier), auth=("symmetric-app", "guess")
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    code = await get_code(sandbox, (verifier, challenge), client_id="symmetric-app")
    right = await sandbox.http.post(
        "/auth/token", data=code_form(code, verifier), auth=("symmetric-app", "s3cret-value")
    )
    assert right.status_code == 200
    # A confidential client cannot fall back to acting as a public one.
    code = await get_code(sandbox, (verifier, challenge), client_id="symmetric-app")
    public = await sandbox.http.post(
        "/auth/token", data=code_form(code, verifier, client_id="symmetric-app")
    )
    assert public.json()["error"] == "invalid_client"


@pytest.mark.parametrize(("key", "alg"), [(EC_KEY, "ES384"), (RSA_KEY, "RS384")])
async def test_private_key_jwt_with_es384_and_rs384(
    make_sandbox: SandboxFactory, key: ECKey | RSAKey, alg: str
) -> None:
    sandbox = await auto_sandbox(make_sandbox)
    verifier, challenge = pkce_pair()
    code = await get_code(sandbox, (verifier, challenge), client_id="asymmetric-app")
    response = await sandbox.http.post(
        "/auth/token",
        data=code_form(
            code,
            verifier,
            client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            client_assertion=assertion(key, alg),
        ),
    )
    assert response.status_code == 200, response.text
    assert response.json()["patient"] == "cervical-candidate"


async def token_with_assertion(sandbox: Sandbox, client_assertion: str) -> dict[str, Any]:
    verifier, challenge = pkce_pair()
    code = await get_code(sandbox, (verifier, challenge), client_id="asymmetric-app")
    response = await sandbox.http.post(
        "/auth/token",
        data=code_form(
            code,
            verifier,
            client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            client_assertion=client_assertion,
        ),
    )
    body: dict[str, Any] = response.json()
    return body


async def test_a_replayed_assertion_jti_is_refused(make_sandbox: SandboxFactory) -> None:
    sandbox = await auto_sandbox(make_sandbox)
    once = assertion(EC_KEY, "ES384", jti="the-same-jti")
    assert "access_token" in await token_with_assertion(sandbox, once)
    replay = await token_with_assertion(sandbox, assertion(EC_KEY, "ES384", jti="the-same-jti"))
    assert replay["error"] == "invalid_client"
    assert "JWT ID" in replay["error_description"]


@pytest.mark.parametrize(
    ("make_assertion", "why"),
    [
        (lambda: assertion(EC_KEY, "ES384", aud=f"{BASE}/fhir"), "aud"),
        (lambda: assertion(EC_KEY, "ES384", expires_in=900), "five minutes"),
        (lambda: assertion(EC_KEY, "ES384", expires_in=-120), "exp"),
        (lambda: assertion(RSA_KEY, "PS384"), "RS384 or ES384"),
        (lambda: assertion(RSA_KEY, "RS256"), "RS384 or ES384"),
        (lambda: assertion(EC_KEY, "ES384", header={"typ": "at+jwt"}), "typ"),
        (lambda: assertion(EC_KEY, "ES384", header={"jku": "https://evil.example/jwks"}), "jku"),
        (lambda: assertion(ECKey.generate_key("P-384"), "ES384"), ""),  # unknown key
        (lambda: assertion(EC_KEY, "ES384", client_id="public-app"), ""),  # not its method
    ],
)
async def test_bad_client_assertions_are_invalid_client(
    make_sandbox: SandboxFactory, make_assertion: Any, why: str
) -> None:
    sandbox = await auto_sandbox(make_sandbox)
    body = await token_with_assertion(sandbox, make_assertion())
    assert body["error"] == "invalid_client"
    assert why in body.get("error_description", "")


async def test_a_signature_from_another_assertion_is_refused(make_sandbox: SandboxFactory) -> None:
    sandbox = await auto_sandbox(make_sandbox)
    header, payload, _ = assertion(EC_KEY, "ES384").split(".")
    *_, other_signature = assertion(EC_KEY, "ES384").split(".")  # different jti, so mismatch
    forged = f"{header}.{payload}.{other_signature}"
    assert (await token_with_assertion(sandbox, forged))["error"] == "invalid_client"


async def test_keys_from_the_jwks_url_of_the_hosted_app_are_fetched_in_process(
    make_sandbox: SandboxFactory,
) -> None:
    served: list[int] = []

    async def jwks(_: Any) -> JSONResponse:
        served.append(1)
        return JSONResponse(public_jwks(EC_KEY))

    hosted = Starlette(routes=[Route("/.well-known/jwks.json", jwks)])
    client = SandboxClient(
        client_id="asymmetric-app",
        auth_method=ClientAuthMethod.PRIVATE_KEY_JWT,
        redirect_uris=[REDIRECT],
        jwks_url=f"{BASE}/.well-known/jwks.json",
    )
    sandbox = await auto_sandbox(make_sandbox, app=hosted, clients=[client])
    assert "access_token" in await token_with_assertion(sandbox, assertion(EC_KEY, "ES384"))
    assert "access_token" in await token_with_assertion(sandbox, assertion(EC_KEY, "ES384"))
    assert served == [1]  # cached between requests
    # A key the cached set lacks makes the sandbox look again (the client rotated).
    rotated = await token_with_assertion(sandbox, assertion(RSA_KEY, "RS384"))
    assert rotated["error"] == "invalid_client"
    assert served == [1, 1]


async def test_an_unreachable_jwks_url_is_invalid_client(make_sandbox: SandboxFactory) -> None:
    client = SandboxClient(
        client_id="asymmetric-app",
        auth_method=ClientAuthMethod.PRIVATE_KEY_JWT,
        redirect_uris=[REDIRECT],
        jwks_url=f"{BASE}/.well-known/jwks.json",  # nothing hosted there
    )
    sandbox = await auto_sandbox(make_sandbox, clients=[client])
    body = await token_with_assertion(sandbox, assertion(EC_KEY, "ES384"))
    assert body["error"] == "invalid_client"
    assert "303" in body["error_description"] or "404" in body["error_description"]


# -- refresh ------------------------------------------------------------------------------


async def first_tokens(sandbox: Sandbox, scope: str) -> dict[str, Any]:
    verifier, challenge = pkce_pair()
    code = await get_code(sandbox, (verifier, challenge), scope=scope)
    response = await sandbox.http.post(
        "/auth/token", data=code_form(code, verifier, client_id="public-app")
    )
    body: dict[str, Any] = response.json()
    return body


async def refresh(sandbox: Sandbox, refresh_token: str, **extra: str) -> dict[str, Any]:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": "public-app",
    }
    form.update(extra)
    body: dict[str, Any] = (await sandbox.http.post("/auth/token", data=form)).json()
    return body


async def test_refresh_rotates_and_a_reused_token_revokes_the_grant(
    make_sandbox: SandboxFactory,
) -> None:
    sandbox = await auto_sandbox(make_sandbox)
    first = await first_tokens(sandbox, "launch/patient offline_access patient/*.rs")
    second = await refresh(sandbox, first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["patient"] == "cervical-candidate"
    assert second["scope"] == first["scope"]
    assert "id_token" not in second
    reuse = await refresh(sandbox, first["refresh_token"])
    assert reuse["error"] == "invalid_grant"
    # The whole grant is gone: the rotated refresh token and every access token.
    assert (await refresh(sandbox, second["refresh_token"]))["error"] == "invalid_grant"
    for token in (first["access_token"], second["access_token"]):
        read = await sandbox.http.get(
            "/fhir/Patient/cervical-candidate", headers={"Authorization": f"Bearer {token}"}
        )
        assert read.status_code == 401


async def test_refresh_may_narrow_but_not_widen_the_scope(make_sandbox: SandboxFactory) -> None:
    sandbox = await auto_sandbox(make_sandbox)
    first = await first_tokens(sandbox, "launch/patient offline_access patient/*.rs")
    wider = await refresh(sandbox, first["refresh_token"], scope="offline_access user/*.rs")
    assert wider["error"] == "invalid_scope"
    narrower = await refresh(sandbox, first["refresh_token"], scope="offline_access")
    assert narrower["scope"] == "offline_access"


async def test_no_refresh_token_without_offline_or_online_access(
    make_sandbox: SandboxFactory,
) -> None:
    sandbox = await auto_sandbox(make_sandbox)
    tokens = await first_tokens(sandbox, "launch/patient patient/*.rs")
    assert "refresh_token" not in tokens
    online = await first_tokens(sandbox, "launch/patient online_access patient/*.rs")
    assert "refresh_token" in online


async def test_access_token_lifetime_is_configurable(make_sandbox: SandboxFactory) -> None:
    sandbox = await auto_sandbox(make_sandbox, access_token_seconds=120)
    tokens = await first_tokens(sandbox, "launch/patient patient/*.rs")
    assert tokens["expires_in"] == 120
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (
        await sandbox.http.get("/fhir/Patient/cervical-candidate", headers=auth)
    ).status_code == 200
    later = sandbox.ehr.now() + timedelta(seconds=121)
    sandbox.ehr.clock = lambda: later
    assert (
        await sandbox.http.get("/fhir/Patient/cervical-candidate", headers=auth)
    ).status_code == 401


async def test_unsupported_grant_types_are_refused(make_sandbox: SandboxFactory) -> None:
    sandbox = await auto_sandbox(make_sandbox)
    response = await sandbox.http.post(
        "/auth/token", data={"grant_type": "client_credentials", "client_id": "public-app"}
    )
    assert response.json()["error"] == "unsupported_grant_type"
