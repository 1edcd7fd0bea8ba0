"""The SMART failure paths at the redirect back from the EHR."""

import re

import httpx
import pytest
from fastapi import FastAPI
from joserfc.jwk import RSAKey

from smart_app.security import launch_cookie_name
from smart_app.store import LAUNCH_TTL_SECONDS
from tests.smart_app.conftest import (
    FakeClock,
    browser,
    complete_launch,
    query_of,
    start_launch,
)
from tests.smart_app.fake_ehr import FakeEhr


def assert_no_session(response: httpx.Response) -> None:
    assert "set-cookie" not in response.headers
    assert "location" not in response.headers


async def test_missing_state_is_refused(client: httpx.AsyncClient, ehr: FakeEhr) -> None:
    url = await start_launch(client)
    params = ehr.authorize(url)
    response = await client.get("/callback", params={"code": params["code"]})
    assert response.status_code == 400
    assert "without the sign-in&#39;s security check" in response.text
    assert "state missing" in response.text
    assert_no_session(response)
    assert ehr.routes["token"].call_count == 0


async def test_unknown_state_is_refused(client: httpx.AsyncClient, ehr: FakeEhr) -> None:
    url = await start_launch(client)
    params = ehr.authorize(url) | {"state": "forged-state-value"}
    response = await client.get("/callback", params=params)
    assert response.status_code == 400
    assert "does not match any launch record" in response.text
    assert ehr.routes["token"].call_count == 0
    assert_no_session(response)


async def test_state_replay_is_refused(client: httpx.AsyncClient, ehr: FakeEhr) -> None:
    url = await start_launch(client)
    params = ehr.authorize(url)
    first = await client.get("/callback", params=params)
    assert first.status_code == 303
    replay = await client.get("/callback", params=params)
    assert replay.status_code == 400
    assert "already used" in replay.text
    assert ehr.routes["token"].call_count == 1
    assert_no_session(replay)


async def test_state_expires_after_ten_minutes(
    client: httpx.AsyncClient, ehr: FakeEhr, clock: FakeClock
) -> None:
    params = ehr.authorize(await start_launch(client))
    clock.advance(LAUNCH_TTL_SECONDS + 1)
    response = await client.get("/callback", params=params)
    assert response.status_code == 400
    assert "longer than ten minutes" in response.text
    assert ehr.routes["token"].call_count == 0


async def test_a_callback_opened_in_another_browser_starts_no_session(
    app: FastAPI, client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    # Login CSRF / session swap: the attacker launches, stops at the redirect back and gets
    # the victim's browser to open it; the victim must not end up in the attacker's session.
    params = ehr.authorize(await start_launch(client))
    async with browser(app) as victim:
        response = await victim.get("/callback", params=params)
    assert response.status_code == 400
    assert "started in another browser window or has expired" in response.text
    assert "open the app again from the EHR" in response.text
    assert "launch cookie for this state is missing or does not match" in response.text
    assert_no_session(response)
    assert ehr.routes["token"].call_count == 0


async def test_a_lost_launch_cookie_refuses_the_launch(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    params = ehr.authorize(await start_launch(client))
    client.cookies.clear()  # a browser that dropped it would drop the session cookie too
    response = await client.get("/callback", params=params)
    assert response.status_code == 400
    assert "started in another browser window" in response.text
    assert_no_session(response)


async def test_a_forged_launch_cookie_is_refused(client: httpx.AsyncClient, ehr: FakeEhr) -> None:
    params = ehr.authorize(await start_launch(client))
    name = launch_cookie_name(params["state"], secure=False)
    client.cookies.set(name, "a-value-the-attacker-chose")
    response = await client.get("/callback", params=params)
    assert response.status_code == 400
    assert_no_session(response)


async def test_another_browsers_try_leaves_the_launch_to_its_own_browser(
    app: FastAPI, client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    params = ehr.authorize(await start_launch(client))
    async with browser(app) as other:
        assert (await other.get("/callback", params=params)).status_code == 400
    response = await client.get("/callback", params=params)
    assert response.status_code == 303


async def test_concurrent_launches_in_one_browser_each_complete(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    first = ehr.authorize(await start_launch(client))
    second = ehr.authorize(await start_launch(client))
    assert (await client.get("/callback", params=second)).status_code == 303
    assert (await client.get("/callback", params=first)).status_code == 303


async def test_the_launch_cookie_is_cleared_when_the_launch_completes(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    params = ehr.authorize(await start_launch(client))
    name = launch_cookie_name(params["state"], secure=False)
    assert client.cookies.get(name)
    response = await client.get("/callback", params=params)
    assert response.status_code == 303
    assert f"{name}=; Path=/; HttpOnly; Max-Age=0; SameSite=Lax" in response.headers.get_list(
        "set-cookie"
    )
    assert client.cookies.get(name) is None


async def test_pkce_verifier_mismatch_is_an_invalid_grant_error_page(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    params = ehr.authorize(await start_launch(client))
    ehr.grants[params["code"]].code_challenge = "a-challenge-for-another-verifier"
    response = await client.get("/callback", params=params)
    assert response.status_code == 502
    assert "invalid_grant" in response.text
    assert "did not accept the app&#39;s sign-in code" in response.text
    assert_no_session(response)


async def test_denied_consent_explains_access_denied(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    state = query_of(await start_launch(client))["state"]
    response = await client.get(
        "/callback",
        params={"error": "access_denied", "error_description": "User said no", "state": state},
    )
    assert response.status_code == 403
    assert "Test EHR refused the sign-in: access_denied." in response.text
    assert "ask your EHR support team" in response.text
    assert ehr.routes["token"].call_count == 0
    assert_no_session(response)


async def test_an_error_with_a_bad_state_reports_the_state(client: httpx.AsyncClient) -> None:
    response = await client.get("/callback", params={"error": "access_denied", "state": "nope"})
    assert response.status_code == 400
    assert "does not match any launch record" in response.text


async def test_a_hostile_error_code_is_not_echoed(client: httpx.AsyncClient) -> None:
    state = query_of(await start_launch(client))["state"]
    response = await client.get(
        "/callback", params={"error": '<script>alert("x")</script>', "state": state}
    )
    assert response.status_code == 403
    assert "<script>" not in response.text
    assert "unreadable error code" in response.text


@pytest.mark.parametrize(
    ("token_response", "status", "words"),
    [
        (httpx.Response(401, json={"error": "invalid_client"}), 502, "does not recognise this app"),
        (httpx.Response(400, json={"error": "invalid_client"}), 502, "invalid_client"),
        (httpx.Response(500, text="Internal error"), 502, "HTTP 500"),
        (httpx.Response(200, text="<html>gateway</html>"), 502, "cannot read"),
        (
            httpx.Response(200, json={"access_token": "a", "token_type": "mac"}),
            502,
            "token_type must be Bearer",
        ),
        (httpx.Response(200, json={"token_type": "Bearer"}), 502, "access_token"),
    ],
)
async def test_token_endpoint_errors_become_error_pages(
    client: httpx.AsyncClient, ehr: FakeEhr, token_response: httpx.Response, status: int, words: str
) -> None:
    ehr.routes["token"].mock(return_value=token_response)
    response = await complete_launch(client, ehr)
    assert response.status_code == status
    assert words in response.text
    assert_no_session(response)


async def test_token_endpoint_network_error(client: httpx.AsyncClient, ehr: FakeEhr) -> None:
    ehr.routes["token"].mock(side_effect=httpx.ConnectTimeout("slow"))
    response = await complete_launch(client, ehr)
    assert response.status_code == 502
    assert "could not reach Test EHR" in response.text
    assert "ConnectTimeout" in response.text


async def test_a_token_without_patient_context_is_refused(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    ehr.token_patient = ""
    response = await complete_launch(client, ehr)
    assert response.status_code == 502
    assert "did not say which patient" in response.text
    assert_no_session(response)


async def test_id_token_with_a_bad_signature_is_rejected(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    ehr.id_token_key = RSAKey.generate_key(2048, parameters={"kid": ehr.server_key.kid})
    response = await complete_launch(client, ehr)
    assert response.status_code == 502
    assert "signature does not verify" in response.text
    assert_no_session(response)


async def test_id_token_for_another_audience_is_rejected(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    ehr.id_token_audience = "some-other-app"
    response = await complete_launch(client, ehr)
    assert response.status_code == 502
    assert "aud does not contain this app&#39;s client_id" in response.text
    assert_no_session(response)


async def test_id_token_from_another_issuer_is_rejected_before_fetching_its_keys(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    original = ehr.id_token
    ehr.id_token = lambda **changes: original(iss="https://attacker.example.net")  # type: ignore[method-assign]
    response = await complete_launch(client, ehr)
    assert response.status_code == 502
    assert "unexpected issuer" in response.text
    assert ehr.routes["openid-configuration"].call_count == 0


async def test_expired_id_token_is_rejected(client: httpx.AsyncClient, ehr: FakeEhr) -> None:
    original = ehr.id_token
    ehr.id_token = lambda **changes: original(exp=int(ehr.clock()) - 3600)  # type: ignore[method-assign]
    response = await complete_launch(client, ehr)
    assert response.status_code == 502
    assert "expired" in response.text


async def test_secure_app_sets_a_secure_partitioned_host_cookie(
    make_app,
    make_settings,
    router,
    ehr: FakeEhr,  # type: ignore[no-untyped-def]
) -> None:
    from tests.smart_app.conftest import browser

    app = make_app(make_settings(public_url="https://app.example.org"))
    async with browser(app, "https://app.example.org") as http:
        response = await complete_launch(http, ehr)
    assert response.status_code == 303
    cookie, cleared = response.headers.get_list("set-cookie")
    assert cleared.startswith("__Host-discogram-launch-") and "Max-Age=0" in cleared
    name, _, attributes = cookie.partition("; ")
    assert re.fullmatch(r"__Host-discogram-session-[A-Za-z0-9_-]{22}=.*", name)
    assert len(name.split("=", 1)[1]) >= 43  # 256-bit opaque id
    assert set(attributes.split("; ")) == {
        "Path=/",
        "HttpOnly",
        "Secure",
        "SameSite=None",
        "Partitioned",
    }
    for issued in ehr.issued:
        assert issued["access_token"] not in cookie


async def test_no_request_value_can_choose_where_the_app_redirects(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    hostile = {"redirect_uri": "https://evil.example", "next": "https://evil.example"}
    launch = await client.get(
        "/launch", params={"iss": "https://ehr.example.org/fhir", "launch": "l"} | hostile
    )
    assert query_of(launch.headers["location"])["redirect_uri"] == "http://127.0.0.1:8000/callback"
    params = ehr.authorize(launch.headers["location"]) | hostile
    response = await client.get("/callback", params=params)
    assert response.status_code == 303
    # The app's own candidacy page, in the new window (a fresh random handle).
    assert re.fullmatch(r"/w/[A-Za-z0-9_-]{22}/app/candidacy", response.headers["location"])
