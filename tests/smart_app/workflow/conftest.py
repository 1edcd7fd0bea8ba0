"""The clinical workflow driven as a browser would, in process: the sandbox EHR hosting the
app (its outgoing calls routed back in process), an EHR launch of a synthetic patient, and a
client that keeps the app's cookie. The outbox worker is run by hand (`write_to_chart`)."""

from __future__ import annotations

import html
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from plugin.cli.sandbox import SANDBOX_CLIENT_ID, SandboxSetup, prepare_sandbox
from plugin.sandbox.app import create_sandbox_with_app, sandbox_of
from plugin.sandbox.instance import SandboxEhr
from smart_app.app import create_app
from smart_app.drafts import Draft, DraftOwner
from smart_app.security import session_cookie_handles, session_cookie_name

BASE = "http://127.0.0.1:8000"
PATIENT = "lumbar-candidate"
USER = "spine-proceduralist"
LEVEL_NAMES = ("L3-L4", "L4-L5", "L5-S1")
WINDOW_PREFIX = re.compile(r"/w/([A-Za-z0-9_-]{22})(?=/)")


class Clock:
    """The app's clock, moved by the tests (saves, preview times, signing)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def page_text(response: httpx.Response) -> str:
    """The visible words of a page, tags dropped and whitespace collapsed."""
    words = re.sub(r"<[^>]+>", " ", response.text)
    return html.unescape(re.sub(r"\s+", " ", words))


def input_value(response: httpx.Response, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', response.text)
    assert match is not None, f"no input {name!r} on the page"
    return html.unescape(match.group(1))


@dataclass
class Browser:
    """One browser window on the sandbox: its cookie jar, the page it is on."""

    http: httpx.AsyncClient
    sandbox: SandboxEhr
    app: FastAPI
    page: httpx.Response | None = None
    study_url: str | None = None  # /w/<window handle>/app/studies/<draft id>
    handle: str | None = None  # the app window of the last launch in this browser
    patient: str = PATIENT  # whom the window's pages show (the forms' `patient`)
    history: list[httpx.Response] = field(default_factory=list)

    async def get(self, url: str) -> httpx.Response:
        self.page = await self.http.get(url)
        return self.page

    @property
    def root(self) -> str:
        """The address prefix of the page's window (`/w/<handle>`), as its links carry it."""
        assert self.page is not None
        match = WINDOW_PREFIX.match(self.page.url.path)
        return match.group(0) if match else ""

    def address(self, path: str) -> str:
        """`path` (perhaps another window's address) as a page of this browser's last launch's
        window links to it: the same page, this window's handle."""
        bare = WINDOW_PREFIX.sub("", path, count=1) if WINDOW_PREFIX.match(path) else path
        return bare if self.handle is None else f"/w/{self.handle}{bare}"

    def session_id(self) -> str:
        """The session id of the last launch's window (from its cookie)."""
        if self.handle is not None:
            return self.http.cookies[session_cookie_name(self.handle, secure=False)]
        (only,) = session_cookie_handles(dict(self.http.cookies.items()), secure=False).values()
        return only

    @property
    def csrf(self) -> str:
        assert self.page is not None
        return input_value(self.page, "csrf_token")

    def form(self, **fields: str) -> dict[str, str]:
        """Fields with the CSRF token and the patient of the page the window shows."""
        return {"csrf_token": self.csrf, "patient": self.patient, **fields}

    async def post(self, url: str, data: dict[str, str], **kw: Any) -> httpx.Response:
        response = await self.http.post(url, data=data, **kw)
        self.history.append(response)
        return response

    async def follow(self, response: httpx.Response) -> httpx.Response:
        assert response.status_code == 303, (response.status_code, page_text(response)[:600])
        return await self.get(response.headers["location"])

    def draft_id(self) -> str:
        assert self.study_url is not None
        return self.study_url.rsplit("/", 1)[-1]

    async def owner(self) -> DraftOwner:
        """Whose drafts this window's session makes (EHR, patient, user)."""
        services = self.app.state.smart
        live = await services.sessions.get(self.session_id())
        assert live is not None
        return DraftOwner.of_session(live.session)

    async def draft(self) -> Draft:
        draft: Draft = await self.app.state.workflow.drafts.get(await self.owner(), self.draft_id())
        return draft


@dataclass
class Sandbox:
    app: FastAPI  # the sandbox, hosting the app
    ehr: SandboxEhr
    clock: Clock
    browsers: list[Browser] = field(default_factory=list)

    @property
    def hosted(self) -> FastAPI:
        hosted: FastAPI = self.app.routes[-1].app  # type: ignore[attr-defined]
        return hosted

    def window(self) -> Browser:
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=BASE, follow_redirects=False
        )
        browser = Browser(http, self.ehr, self.hosted)
        self.browsers.append(browser)
        return browser

    def window_beside(self, browser: Browser, patient: str) -> Browser:
        """Another window of the same browser (its cookie store), to launch `patient` in."""
        window = Browser(browser.http, self.ehr, self.hosted, patient=patient)
        self.browsers.append(window)
        return window

    async def launch(self, patient: str = PATIENT, browser: Browser | None = None) -> Browser:
        """An EHR launch in a window (a new one by default); ends on the candidacy page."""
        window = browser or self.window()
        context = await self.ehr.launch(SANDBOX_CLIENT_ID, patient, USER)
        response = await window.http.get(
            "/launch", params={"iss": self.ehr.config.fhir_base, "launch": context.id}
        )
        for _ in range(6):
            if response.status_code not in (302, 303):
                break
            response = await window.http.get(response.headers["location"])
        assert response.status_code == 200, page_text(response)[:600]
        assert str(response.url).endswith("/app/candidacy")
        window.page = response
        handle = WINDOW_PREFIX.match(response.url.path)
        window.handle = handle.group(1) if handle else None
        return window

    async def write_to_chart(self) -> None:
        """What the outbox worker does in the background, once."""
        await self.hosted.state.outbox.worker.run_once()

    def fhir_token(self, patient: str = PATIENT) -> dict[str, str]:
        token = self.ehr.issue_access_token(SANDBOX_CLIENT_ID, "patient/*.rs", patient=patient)
        return {"Authorization": f"Bearer {token.token}"}


@pytest.fixture(scope="session")
def id_token_key() -> bytes:
    # One sandbox id_token key (PEM) for the run: RSA generation is slow.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


SandboxFactory = Callable[..., Awaitable[Sandbox]]


@pytest.fixture
async def make_sandbox(tmp_path: Path, id_token_key: bytes) -> AsyncIterator[SandboxFactory]:
    made: list[Sandbox] = []

    def prepare(data_dir: Path) -> SandboxSetup:
        data_dir.mkdir()
        (data_dir / "sandbox-id-token-key.pem").write_bytes(id_token_key)
        return prepare_sandbox(data_dir, 8000)

    async def make(
        settings_changes: dict[str, Any] | None = None, **config_changes: Any
    ) -> Sandbox:
        setup = prepare(tmp_path / f"sandbox-{len(made)}")
        config = setup.config.model_copy(
            update={"auto_consent": True, "database_file": None, **config_changes}
        )
        settings = setup.settings.model_copy(update=settings_changes or {})
        clock = Clock(time.time())  # the sandbox checks client assertions on its own clock
        app = create_sandbox_with_app(
            config, lambda transport: create_app(settings, transport=transport, clock=clock)
        )
        sandbox = Sandbox(app, sandbox_of(app), clock)
        made.append(sandbox)
        return sandbox

    yield make
    for sandbox in made:
        for browser in sandbox.browsers:
            await browser.http.aclose()
        await sandbox.hosted.state.smart.aclose()
        await sandbox.ehr.close()


@pytest.fixture
async def sandbox(make_sandbox: SandboxFactory) -> Sandbox:
    return await make_sandbox()


# -- walking the workflow -------------------------------------------------------------------

ATTEST_BOTH = {"attest-imaging-inconclusive": "yes", "attest-decision-hinges": "yes"}


async def start_study(browser: Browser, **attestations: str) -> httpx.Response:
    """Attest on the candidacy page and continue to the setup page of a (new) study."""
    response = await browser.post(
        f"{browser.root}/app/candidacy",
        browser.form(action="continue", **(attestations or ATTEST_BOTH)),
    )
    page = await browser.follow(response)
    browser.study_url = str(page.url).removesuffix("/setup").replace(BASE, "")
    return page


def setup_fields(browser: Browser, **extra: str) -> dict[str, str]:
    """The setup form for L3-L4 (control), L4-L5 and L5-S1, lumbar, plus `extra`."""
    fields = browser.form(
        revision=input_value(browser.page, "revision"),  # type: ignore[arg-type]
        region="lumbar",
        **{"technique-fields": "1", "technique-patient_blinded": "on"},
    )
    for name in LEVEL_NAMES:
        fields[f"inject-{name}"] = "on"
    fields["control-L3-L4"] = "on"
    fields.update(extra)
    return fields


async def set_up_three_levels(browser: Browser, **extra: str) -> httpx.Response:
    """Setup: L3-L4 control, L4-L5, L5-S1; ends on the results page."""
    response = await browser.post(
        f"{browser.study_url}/setup", setup_fields(browser, action="continue", **extra)
    )
    return await browser.follow(response)


#: A complete study: L4-L5 concordant at low pressure with two negative controls.
RESULTS: dict[str, dict[str, str]] = {
    "L3-L4": {
        "opening_pressure_psi": "12",
        "peak_pressure_psi": "95",
        "total_volume_ml": "1.5",
        "pain_intensity": "0",
        "pain_response": "none",
    },
    "L4-L5": {
        "opening_pressure_psi": "10",
        "onset_pressure_psi": "18",
        "peak_pressure_psi": "40",
        "onset_volume_ml": "1",
        "total_volume_ml": "2",
        "pain_intensity": "8",
        "pain_response": "concordant",
        "pain_location": "Central low back",
        "dallas_grade": "4",
    },
    "L5-S1": {
        "opening_pressure_psi": "14",
        "onset_pressure_psi": "60",
        "peak_pressure_psi": "80",
        "onset_volume_ml": "2.5",
        "total_volume_ml": "3",
        "pain_intensity": "4",
        "pain_response": "discordant",
    },
}


def level_fields(
    browser: Browser, results: dict[str, dict[str, str]] | None = None, /, **extra: str
) -> dict[str, str]:
    """The results form as a browser posts it (every disc's inputs, empty ones included)."""
    assert browser.page is not None
    fields = browser.form(
        revision=input_value(browser.page, "revision"),
        **{
            "study-fields": "1",
            "performed-local": "2026-11-20T09:30",
            "performed-offset": "-05:00",
        },
    )
    for name, values in (results if results is not None else RESULTS).items():
        fields[f"lv-{name}-present"] = "1"
        fields[f"lv-{name}-technical_result"] = "completed"
        for key, value in values.items():
            fields[f"lv-{name}-{key}"] = value
    fields.update(extra)
    return fields


async def enter_results(browser: Browser, **extra: str) -> httpx.Response:
    """Post the complete results and go on to the preview."""
    response = await browser.post(
        f"{browser.study_url}/levels", level_fields(browser, action="preview", **extra)
    )
    return await browser.follow(response)
