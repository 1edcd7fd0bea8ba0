"""Fixtures of the SMART app tests: a controlled clock, the fake EHR on respx, settings in a
temporary data folder, the app, and a browser-like client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from fastapi import FastAPI
from joserfc.jwk import RSAKey

from smart_app.app import create_app
from smart_app.security import session_cookie_handles
from smart_app.settings import EhrRegistration, Settings
from tests.smart_app.fake_ehr import CLIENT_ID, CLIENT_SECRET, FHIR_BASE, FakeEhr

APP_URL = "http://127.0.0.1:8000"
START = 1_795_600_000.0  # a fixed "now" (2026-11-25T09:46:40Z, after the example studies)


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def server_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "ehr-key-1"})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ehr(clock: FakeClock, server_key: RSAKey) -> FakeEhr:
    return FakeEhr(clock=clock, server_key=server_key)


@pytest.fixture
def router(ehr: FakeEhr) -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        ehr.install(mock)
        yield mock


def registration(**changes: Any) -> EhrRegistration:
    values: dict[str, Any] = {
        "name": "Test EHR",
        "iss": FHIR_BASE,
        "client_id": CLIENT_ID,
        "client_auth": "public",
    }
    values.update(changes)
    if values["client_auth"] == "client_secret_basic":
        values.setdefault("client_secret", CLIENT_SECRET)
    return EhrRegistration(**values)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(*registrations: EhrRegistration, **changes: Any) -> Settings:
        values: dict[str, Any] = {
            "public_url": APP_URL,
            "data_dir": tmp_path,
            "ehr": list(registrations) or [registration()],
        }
        values.update(changes)
        return Settings(**values)

    return make


@pytest.fixture
async def make_app(
    clock: FakeClock, make_settings: Callable[..., Settings]
) -> AsyncIterator[Callable[..., FastAPI]]:
    apps: list[FastAPI] = []

    def make(settings: Settings | None = None) -> FastAPI:
        app = create_app(settings or make_settings(), clock=clock)
        apps.append(app)
        return app

    yield make
    for app in apps:
        await app.state.smart.aclose()


def browser(app: FastAPI, base_url: str = APP_URL) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=base_url, follow_redirects=False
    )


@pytest.fixture
async def app(make_app: Callable[..., FastAPI], router: respx.MockRouter) -> FastAPI:
    return make_app()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(app) as http:
        yield http


def session_id_of(client: httpx.AsyncClient, *, secure: bool = False) -> str:
    """The session id in the browser's one app window's cookie."""
    (only,) = session_cookie_handles(dict(client.cookies.items()), secure=secure).values()
    return only


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def start_launch(
    http: httpx.AsyncClient, *, launch: str | None = "launch-handle-1", iss: str = FHIR_BASE
) -> str:
    """GET /launch; returns the authorization URL the app redirected to."""
    params = {"iss": iss} | ({"launch": launch} if launch is not None else {})
    response = await http.get("/launch", params=params)
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def complete_launch(
    http: httpx.AsyncClient, ehr: FakeEhr, *, launch: str | None = "launch-handle-1"
) -> httpx.Response:
    """Launch, approve at the fake EHR, follow the callback; returns the callback response."""
    authorize_url = await start_launch(http, launch=launch)
    return await http.get("/callback", params=ehr.authorize(authorize_url))
