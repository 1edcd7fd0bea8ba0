"""Several app windows in one browser: each launch its own window and session, found by the
window's handle; no guessing without one; ended windows' cookies cleared; at most
`MAX_WINDOWS` per browser."""

import html
import re

import httpx
from fastapi import FastAPI

from smart_app.security import WINDOW_LIMIT_VALUE, session_cookie_handles, session_cookie_name
from smart_app.window_sessions import MAX_WINDOWS
from tests.smart_app.conftest import FakeClock, browser, complete_launch
from tests.smart_app.fake_ehr import PATIENT_ID, FakeEhr

OTHER_PATIENT = "pat-other-22"


def page_patient(page: httpx.Response) -> str:
    """The patient the page acts on (its sign-out form's `patient`)."""
    match = re.search(r'name="patient" value="([^"]*)"', page.text)
    assert match is not None, page.text[:600]
    return html.unescape(match.group(1))


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
    assert match is not None
    return html.unescape(match.group(1))


async def open_window(client: httpx.AsyncClient, ehr: FakeEhr, patient: str) -> str:
    """Launch the app for `patient` in this browser; the new window's root (`/w/<handle>`)."""
    ehr.token_patient = patient
    ehr.other_patients.add(patient)  # the EHR holds each patient launched for
    response = await complete_launch(client, ehr)
    assert response.status_code == 303, response.text[:600]
    location = response.headers["location"]
    assert re.fullmatch(r"/w/[A-Za-z0-9_-]{22}/app/candidacy", location)
    return location.removesuffix("/app/candidacy")


def handle_of(window: str) -> str:
    return window.removeprefix("/w/")


async def test_each_launch_is_a_window_with_its_own_patient(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    window_a = await open_window(client, ehr, PATIENT_ID)
    window_b = await open_window(client, ehr, OTHER_PATIENT)
    assert window_a != window_b
    page_a = await client.get(f"{window_a}/app")
    page_b = await client.get(f"{window_b}/app")
    assert page_a.status_code == page_b.status_code == 200
    assert page_patient(page_a) == PATIENT_ID
    assert page_patient(page_b) == OTHER_PATIENT
    # Each window's links and forms stay in it.
    assert f'action="{window_a}/app/sign-out"' in page_a.text
    assert f'href="{window_b}/app/candidacy"' in page_b.text


async def test_without_a_handle_and_two_windows_no_patient_is_shown(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    window_a = await open_window(client, ehr, PATIENT_ID)
    await open_window(client, ehr, OTHER_PATIENT)
    page = await client.get("/app")
    assert page.status_code == 409
    assert "this page does not say which of them it belongs to" in html.unescape(page.text)
    assert PATIENT_ID not in page.text and OTHER_PATIENT not in page.text
    form = await client.post(
        "/app/sign-out",
        data={"csrf_token": csrf_of(await client.get(f"{window_a}/app")), "patient": PATIENT_ID},
    )
    assert form.status_code == 409  # nothing done for either window
    assert (await client.get(f"{window_a}/app")).status_code == 200


async def test_with_one_window_an_address_without_handle_still_works(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    await open_window(client, ehr, PATIENT_ID)
    page = await client.get("/app")  # an old link or bookmark
    assert page.status_code == 200 and page_patient(page) == PATIENT_ID


async def test_a_cookie_from_before_window_handles_still_works(
    app: FastAPI, client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    window = await open_window(client, ehr, PATIENT_ID)
    session_id = client.cookies[session_cookie_name(handle_of(window), secure=False)]
    async with browser(app) as old:
        old.cookies.set(session_cookie_name(None, secure=False), session_id)
        page = await old.get("/app")
    assert page.status_code == 200 and page_patient(page) == PATIENT_ID


async def test_a_handle_without_its_cookie_is_nothing(
    app: FastAPI, client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    window_a = await open_window(client, ehr, PATIENT_ID)
    async with browser(app) as other:  # another browser, signed in for another patient
        await open_window(other, ehr, OTHER_PATIENT)
        page = await other.get(f"{window_a}/app")
        assert page.status_code == 401
        assert PATIENT_ID not in page.text and OTHER_PATIENT not in page.text
    assert (await client.get(f"{window_a}/app")).status_code == 200


async def test_sign_out_ends_only_its_own_window(client: httpx.AsyncClient, ehr: FakeEhr) -> None:
    window_a = await open_window(client, ehr, PATIENT_ID)
    window_b = await open_window(client, ehr, OTHER_PATIENT)
    page_a = await client.get(f"{window_a}/app")
    response = await client.post(
        f"{window_a}/app/sign-out", data={"csrf_token": csrf_of(page_a), "patient": PATIENT_ID}
    )
    assert response.status_code == 200
    (cleared,) = response.headers.get_list("set-cookie")
    assert cleared.startswith(f"{session_cookie_name(handle_of(window_a), secure=False)}=;")
    assert "Max-Age=0" in cleared
    assert (await client.get(f"{window_a}/app")).status_code == 401
    assert page_patient(await client.get(f"{window_b}/app")) == OTHER_PATIENT
    # One window left: addresses without a handle are that window's again.
    assert page_patient(await client.get("/app")) == OTHER_PATIENT


async def test_an_ended_sessions_cookie_is_cleared_when_seen(
    app: FastAPI, client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    window = await open_window(client, ehr, PATIENT_ID)
    name = session_cookie_name(handle_of(window), secure=False)
    await app.state.smart.sessions.end(client.cookies[name])
    page = await client.get(f"{window}/app")
    assert page.status_code == 401
    (cleared,) = page.headers.get_list("set-cookie")
    assert cleared.startswith(f"{name}=;") and "Max-Age=0" in cleared
    assert name not in client.cookies


async def test_the_oldest_window_is_signed_out_beyond_the_cap(
    client: httpx.AsyncClient, ehr: FakeEhr, clock: FakeClock
) -> None:
    windows = []
    for _ in range(MAX_WINDOWS + 1):
        windows.append(await open_window(client, ehr, PATIENT_ID))
        clock.advance(60)
    oldest, *kept = windows
    live = session_cookie_handles(dict(client.cookies.items()), secure=False)
    assert len([value for value in live.values() if value != WINDOW_LIMIT_VALUE]) == MAX_WINDOWS
    page = await client.get(f"{oldest}/app")
    assert page.status_code == 401
    assert f"opened for more than {MAX_WINDOWS} patients" in page.text
    assert "this window was the oldest" in page.text
    assert session_cookie_name(handle_of(oldest), secure=False) not in client.cookies
    for window in kept:
        assert (await client.get(f"{window}/app")).status_code == 200


async def test_window_cookie_attributes_on_loopback(
    client: httpx.AsyncClient, ehr: FakeEhr
) -> None:
    ehr.token_patient = ehr.patient_resource_id = PATIENT_ID
    response = await complete_launch(client, ehr)
    handle = handle_of(response.headers["location"].removesuffix("/app/candidacy"))
    cookie = response.headers.get_list("set-cookie")[0]
    name, _, attributes = cookie.partition("; ")
    assert name.startswith(f"discogram-session-{handle}=")
    assert set(attributes.split("; ")) == {"Path=/", "HttpOnly", "SameSite=Lax"}


async def test_two_windows_over_https_each_have_a_secure_partitioned_host_cookie(
    make_app,  # type: ignore[no-untyped-def]
    make_settings,
    router,
    ehr: FakeEhr,
) -> None:
    app = make_app(make_settings(public_url="https://app.example.org"))
    async with browser(app, "https://app.example.org") as http:
        window_a = await open_window(http, ehr, PATIENT_ID)
        window_b = await open_window(http, ehr, OTHER_PATIENT)
        assert page_patient(await http.get(f"{window_a}/app")) == PATIENT_ID
        assert page_patient(await http.get(f"{window_b}/app")) == OTHER_PATIENT
        names = set(session_cookie_handles(dict(http.cookies.items()), secure=True))
    assert names == {handle_of(window_a), handle_of(window_b)}
    ehr.token_patient = PATIENT_ID
    async with browser(app, "https://app.example.org") as http:
        cookie = (await complete_launch(http, ehr)).headers.get_list("set-cookie")[0]
    name, _, attributes = cookie.partition("; ")
    assert re.fullmatch(r"__Host-discogram-session-[A-Za-z0-9_-]{22}=[A-Za-z0-9_-]{43}", name)
    assert set(attributes.split("; ")) == {
        "Path=/",
        "HttpOnly",
        "Secure",
        "SameSite=None",
        "Partitioned",
    }
