import base64
from collections.abc import Callable

import httpx
import pytest
import respx
from fastapi import FastAPI

from smart_app.security import launch_cookie_name
from smart_app.settings import Settings
from tests.smart_app.conftest import APP_URL, browser, query_of, registration, start_launch
from tests.smart_app.fake_ehr import AUTHORIZE_URL, CLIENT_ID, FHIR_BASE, FakeEhr, s256


async def test_ehr_launch_redirects_to_the_authorization_endpoint_with_every_parameter(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    url = await start_launch(client, launch="opaque-launch-123")
    assert url.startswith(AUTHORIZE_URL + "?")
    query = query_of(url)
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == f"{APP_URL}/callback"
    assert query["launch"] == "opaque-launch-123"
    assert query["aud"] == FHIR_BASE
    assert query["code_challenge_method"] == "S256"
    assert len(base64.urlsafe_b64decode(query["code_challenge"] + "=")) == 32  # SHA-256
    assert len(base64.urlsafe_b64decode(query["state"] + "=")) >= 16  # ≥ 128 bits
    scopes = query["scope"].split()
    assert scopes[:4] == ["launch", "openid", "fhirUser", "offline_access"]
    assert "patient/DocumentReference.c" in scopes


async def test_each_launch_gets_its_own_state_and_verifier(client: httpx.AsyncClient) -> None:
    first, second = query_of(await start_launch(client)), query_of(await start_launch(client))
    assert first["state"] != second["state"]
    assert first["code_challenge"] != second["code_challenge"]


async def test_aud_is_the_iss_exactly_as_the_ehr_sent_it(client: httpx.AsyncClient) -> None:
    url = await start_launch(client, iss=FHIR_BASE + "/")
    assert query_of(url)["aud"] == FHIR_BASE + "/"


async def test_standalone_launch_omits_launch_and_asks_for_a_patient(
    client: httpx.AsyncClient,
) -> None:
    query = query_of(await start_launch(client, launch=None))
    assert "launch" not in query
    scopes = query["scope"].split()
    assert "launch/patient" in scopes and "launch" not in scopes
    assert query["aud"] == FHIR_BASE


def launch_cookies(response: httpx.Response) -> list[str]:
    return [c for c in response.headers.get_list("set-cookie") if "discogram-launch-" in c]


@pytest.mark.parametrize("launch", ["launch-handle-1", None], ids=["ehr", "standalone"])
async def test_a_launch_binds_its_state_to_this_browser_with_a_short_lived_cookie(
    client: httpx.AsyncClient, launch: str | None
) -> None:
    params = {"iss": FHIR_BASE} | ({"launch": launch} if launch else {})
    response = await client.get("/launch", params=params)
    (cookie,) = launch_cookies(response)
    state = query_of(response.headers["location"])["state"]
    name, _, attributes = cookie.partition("; ")
    assert name.split("=")[0] == launch_cookie_name(state, secure=False)
    assert len(name.split("=", 1)[1]) >= 43  # a 256-bit random value, not the state
    assert state not in cookie
    assert set(attributes.split("; ")) == {"Path=/", "HttpOnly", "Max-Age=600", "SameSite=Lax"}


async def test_a_secure_app_binds_with_a_secure_partitioned_host_cookie(
    make_app: Callable[..., FastAPI],
    make_settings: Callable[..., Settings],
    router: respx.MockRouter,
) -> None:
    app = make_app(make_settings(public_url="https://app.example.org"))
    async with browser(app, "https://app.example.org") as http:
        response = await http.get("/launch", params={"iss": FHIR_BASE, "launch": "l"})
    (cookie,) = launch_cookies(response)
    name, _, attributes = cookie.partition("; ")
    assert name.startswith("__Host-discogram-launch-")
    assert set(attributes.split("; ")) == {
        "Path=/",
        "HttpOnly",
        "Max-Age=600",
        "Secure",
        "SameSite=None",
        "Partitioned",
    }


async def test_pkce_is_sent_even_when_not_advertised(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    original = ehr.smart_configuration
    ehr.smart_configuration = lambda: {  # type: ignore[method-assign]
        k: v for k, v in original().items() if k != "code_challenge_methods_supported"
    }
    query = query_of(await start_launch(client))
    assert query["code_challenge_method"] == "S256" and query["code_challenge"]


async def test_the_challenge_matches_the_verifier_the_token_request_sends(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    url = await start_launch(client)
    callback = await client.get("/callback", params=ehr.authorize(url))
    assert callback.status_code == 303
    verifier = ehr.token_requests[0]["code_verifier"]
    assert s256(verifier) == query_of(url)["code_challenge"]
    assert 43 <= len(verifier) <= 128


async def test_v1_only_server_gets_v1_scopes(client: httpx.AsyncClient, ehr: FakeEhr) -> None:
    ehr.capabilities = ["launch-ehr", "permission-v1", "sso-openid-connect", "permission-offline"]
    scopes = query_of(await start_launch(client))["scope"].split()
    assert "patient/Observation.read" in scopes
    assert "patient/DocumentReference.write" in scopes
    assert not [s for s in scopes if s.endswith((".rs", ".c"))]


async def test_registration_scopes_override(
    make_app: Callable[..., FastAPI],
    make_settings: Callable[..., Settings],
    router: respx.MockRouter,
) -> None:
    app = make_app(make_settings(registration(scopes=["openid", "fhirUser", "patient/*.read"])))
    async with browser(app) as http:
        scopes = query_of(await start_launch(http))["scope"].split()
    assert scopes == ["launch", "openid", "fhirUser", "patient/*.read"]


async def test_unknown_iss_gets_an_error_page_and_no_request_is_sent(
    client: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    evil = router.get(url__startswith="https://evil.example.com").mock(
        return_value=httpx.Response(200, json={})
    )
    response = await client.get(
        "/launch", params={"iss": "https://evil.example.com/fhir<script>x</script>", "launch": "x"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "Unknown EHR" in response.text
    assert "not set up to work with" in response.text
    assert "https://evil.example.com/fhir&lt;script&gt;" in response.text  # named, escaped
    assert "<script>" not in response.text
    assert not evil.called
    assert router.calls.call_count == 0  # not even our registered EHR was contacted
    assert "location" not in response.headers


async def test_no_iss_shows_the_chooser_of_registered_ehrs(
    client: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    response = await client.get("/launch")
    assert response.status_code == 200
    assert "Choose your EHR" in response.text
    assert "Test EHR" in response.text
    assert "/launch?iss=https%3A//ehr.example.org/fhir" in response.text
    assert router.calls.call_count == 0
    assert (await client.get("/")).text == response.text


async def test_launch_without_iss_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/launch", params={"launch": "abc"})
    assert response.status_code == 400
    assert "without saying which EHR" in response.text


async def test_discovery_failure_is_an_error_page_not_a_traceback(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    ehr.routes["smart-configuration"].mock(return_value=httpx.Response(503))
    response = await client.get("/launch", params={"iss": FHIR_BASE, "launch": "x"})
    assert response.status_code == 502
    assert "Test EHR" in response.text and "HTTP 503" in response.text


async def test_a_server_without_authorization_endpoint_cannot_launch(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    original = ehr.smart_configuration
    ehr.smart_configuration = lambda: {  # type: ignore[method-assign]
        k: v for k, v in original().items() if k != "authorization_endpoint"
    }
    response = await client.get("/launch", params={"iss": FHIR_BASE, "launch": "x"})
    assert response.status_code == 502
    assert "no authorization_endpoint" in response.text


async def test_an_overlong_launch_handle_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/launch", params={"iss": FHIR_BASE, "launch": "x" * 5000})
    assert response.status_code == 400
