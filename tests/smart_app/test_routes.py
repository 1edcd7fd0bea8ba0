"""The pages: patient page, style, sign-out, JWK Set; plus the log hygiene of a full launch."""

import html
import logging
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import respx
from fastapi import FastAPI

from smart_app.keys import generate_private_key
from smart_app.settings import Settings
from tests.smart_app.conftest import (
    FakeClock,
    browser,
    complete_launch,
    registration,
    session_id_of,
)
from tests.smart_app.fake_ehr import PATIENT_ID, STYLE_URL, FakeEhr

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def text(response: httpx.Response) -> str:
    """The page's visible words, tags dropped and whitespace collapsed."""
    words = re.sub(r"<[^>]+>", " ", response.text)
    return html.unescape(re.sub(r"\s+", " ", words))


def window_of(callback: httpx.Response) -> str:
    """The window a launch opened (`/w/<handle>`), from the callback's redirect."""
    return callback.headers["location"].removesuffix("/app/candidacy")


def form_value(response: httpx.Response, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', response.text)
    assert match is not None, name
    return html.unescape(match.group(1))


async def test_patient_page_shows_banner_user_and_capabilities(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    await complete_launch(client, ehr)
    page = await client.get("/app")
    assert page.status_code == 200
    body = text(page)
    assert "Ada Q. Testperson" in body and "1971-04-09" in body and "female" in body
    assert "Signed in as Dr. Chidi Okafor" in body
    assert "Write the report back to the EHR available" in body
    assert page.headers["cache-control"] == "no-store"
    for issued in ehr.issued:
        for secret in ("access_token", "refresh_token", "id_token"):
            if secret in issued:
                assert issued[secret] not in page.text


async def test_banner_is_hidden_when_the_ehr_shows_its_own(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    ehr.need_patient_banner = False
    await complete_launch(client, ehr)
    page = await client.get("/app")
    assert page.status_code == 200
    assert 'class="patient-banner"' not in page.text
    assert "Ada Q. Testperson" not in page.text


async def test_relative_fhir_user_is_read_on_the_fhir_base(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    ehr.fhir_user = "Practitioner/prac-51b2"
    await complete_launch(client, ehr)
    assert "Signed in as Dr. Chidi Okafor" in text(await client.get("/app"))


async def test_fhir_user_on_another_server_is_not_followed(
    client: httpx.AsyncClient, ehr: FakeEhr, router: respx.MockRouter
) -> None:
    other = router.get(url__startswith="https://other.example.net").mock(
        return_value=httpx.Response(200, json={})
    )
    ehr.fhir_user = "https://other.example.net/fhir/Practitioner/1"
    await complete_launch(client, ehr)
    body = text(await client.get("/app"))
    assert "Signed-in user unknown" in body
    assert "on another server" in body
    assert not other.called


async def test_scope_narrower_than_asked_disables_write_back_and_says_why(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    ehr.granted_scope = (
        "launch openid fhirUser offline_access patient/Patient.rs patient/Observation.rs "
        "patient/Condition.rs"
    )
    await complete_launch(client, ehr)
    page = await client.get("/app")
    assert page.status_code == 200
    body = text(page)
    assert 'data-feature="write-back"' in page.text
    assert "Write the report back to the EHR not available" in body
    assert (
        "The EHR did not grant permission to create DocumentReference, so the report cannot be "
        "written back." in body
    )
    assert "so anticoagulants and other active medications cannot be checked" in body


async def test_ehr_style_is_applied_through_our_own_sanitised_stylesheet(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    ehr.smart_style_url = STYLE_URL
    await complete_launch(client, ehr)
    page = await client.get("/app")
    assert '<link rel="stylesheet" href="/app/style.css">' in page.text
    assert "<style" not in page.text and "style=" not in page.text
    css = await client.get("/app/style.css")
    assert css.headers["content-type"].startswith("text/css")
    assert "--smart-color-background: #edeae3;" in css.text
    assert "--smart-font-family-body: Georgia, serif;" in css.text
    assert "display:none" not in css.text and "--smart-color-text" not in css.text


async def test_style_from_a_foreign_origin_is_not_fetched(
    client: httpx.AsyncClient, ehr: FakeEhr, router: respx.MockRouter
) -> None:
    foreign = router.get("https://cdn.example.net/style.json").mock(
        return_value=httpx.Response(200, json={"color_background": "#000"})
    )
    ehr.smart_style_url = "https://cdn.example.net/style.json"
    await complete_launch(client, ehr)
    assert "/app/style.css" not in (await client.get("/app")).text
    assert not foreign.called


async def test_patient_in_token_differs_from_the_patient_the_ehr_returns(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    ehr.patient_resource_id = "someone-else"
    await complete_launch(client, ehr)
    page = await client.get("/app")
    assert page.status_code == 409
    assert "different patient" in text(page)
    assert "Testperson" not in page.text


async def test_a_form_for_another_patient_than_the_sessions_is_refused(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    # The page of patient A is open; the app is then launched again for patient B in the
    # same browser; A's page's patient, posted to B's window, must not act on B's session.
    window_a = window_of(await complete_launch(client, ehr))
    old_page = await client.get(f"{window_a}/app")
    csrf, shown = form_value(old_page, "csrf_token"), form_value(old_page, "patient")
    assert shown == PATIENT_ID
    ehr.token_patient = ehr.patient_resource_id = "pat-other-22"
    window_b = window_of(await complete_launch(client, ehr))
    new_page = await client.get(f"{window_b}/app")
    response = await client.post(
        f"{window_b}/app/sign-out",
        data={"csrf_token": form_value(new_page, "csrf_token"), "patient": shown},
    )
    assert response.status_code == 409
    assert "different patient" in text(response)
    assert csrf != form_value(new_page, "csrf_token")
    still = await client.get(f"{window_b}/app")
    assert still.status_code == 200  # nothing was done


async def test_sign_out_with_csrf_and_patient_ends_the_session(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    await complete_launch(client, ehr)
    page = await client.get("/app")
    response = await client.post(
        "/app/sign-out",
        data={"csrf_token": form_value(page, "csrf_token"), "patient": form_value(page, "patient")},
    )
    assert response.status_code == 200
    assert "Signed out" in response.text
    assert "Max-Age=0" in response.headers["set-cookie"]
    after = await client.get("/app")
    assert after.status_code == 401
    assert "not signed in" in text(after)


@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_post_without_the_right_csrf_token_is_forbidden(
    client: httpx.AsyncClient, ehr: FakeEhr, token: str | None
) -> None:
    await complete_launch(client, ehr)
    page = await client.get("/app")
    data = {"patient": form_value(page, "patient")} | ({"csrf_token": token} if token else {})
    response = await client.post("/app/sign-out", data=data)
    assert response.status_code == 403
    assert (await client.get("/app")).status_code == 200  # session untouched


async def test_post_without_a_session_is_forbidden(client: httpx.AsyncClient) -> None:
    response = await client.post("/app/sign-out", data={"csrf_token": "x", "patient": "p"})
    assert response.status_code == 403


async def test_csrf_token_is_accepted_from_the_header(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    await complete_launch(client, ehr)
    page = await client.get("/app")
    response = await client.post(
        "/app/sign-out",
        data={"patient": form_value(page, "patient")},
        headers={"X-CSRF-Token": form_value(page, "csrf_token")},
    )
    assert response.status_code == 200


async def test_no_session_cookie_means_no_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/app")
    assert response.status_code == 401
    assert "Open the app from the patient" in text(response)


async def test_security_headers_on_pages_and_errors(
    make_app: Callable[..., FastAPI],
    make_settings: Callable[..., Settings],
    router: respx.MockRouter,
) -> None:
    settings = make_settings(
        registration(frame_origins=["https://portal.ehr-vendor.example"]),
        registration(name="Second", iss="https://second.example.org/r4", client_id="c2"),
    )
    async with browser(make_app(settings)) as http:
        for response in (
            await http.get("/launch"),
            await http.get("/launch?iss=https://x.example/"),
        ):
            csp = response.headers["content-security-policy"]
            assert "default-src 'self'" in csp
            assert (
                "frame-ancestors 'self' https://ehr.example.org https://portal.ehr-vendor.example "
                "https://second.example.org;" in csp
            )
            assert "*" not in csp
            assert "x-frame-options" not in response.headers
            assert response.headers["referrer-policy"] == "no-referrer"
            assert response.headers["x-content-type-options"] == "nosniff"


async def test_jwks_serves_current_and_next_public_keys_with_cache_control(
    make_app: Callable[..., FastAPI],
    make_settings: Callable[..., Settings],
    router: respx.MockRouter,
    tmp_path: Path,
) -> None:
    current = generate_private_key(tmp_path / "current.pem")
    upcoming = generate_private_key(tmp_path / "next.pem")
    settings = make_settings(
        registration(
            client_auth="private_key_jwt",
            private_key_file=current.path,
            next_private_key_file=upcoming.path,
        )
    )
    async with browser(make_app(settings)) as http:
        response = await http.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "public, max-age=3600"
    keys = response.json()["keys"]
    assert [k["kid"] for k in keys] == [current.kid, upcoming.kid]
    for key in keys:
        assert {"kty", "kid", "use", "alg"} <= set(key)
        assert not PRIVATE_MEMBERS & set(key)
    private_d = current.key.as_dict(private=True)["d"]
    assert private_d not in response.text


async def test_logs_of_a_full_launch_hold_no_token_code_or_patient_id(
    client: httpx.AsyncClient, ehr: FakeEhr, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url_response = await client.get(
        "/launch", params={"iss": "https://ehr.example.org/fhir", "launch": "L-secret-launch"}
    )
    authorize_url = url_response.headers["location"]
    params = ehr.authorize(authorize_url)
    await client.get("/callback", params=params)
    await client.get("/app")
    clock.advance(ehr.expires_in)  # force a refresh too
    await client.get("/app")
    assert len(ehr.issued) == 2
    secrets = [params["code"], params["state"], "L-secret-launch", PATIENT_ID]
    secrets += ehr.token_requests[0]["code_verifier"], session_id_of(client)
    for issued in ehr.issued:
        secrets += [
            v for k, v in issued.items() if k in ("access_token", "refresh_token", "id_token")
        ]
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert logged  # the flow did log
    for secret in secrets:
        assert secret and secret not in logged
