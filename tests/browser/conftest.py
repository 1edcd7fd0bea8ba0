"""The browser tests: the sandbox EHR hosting the app, served by uvicorn on a free loopback
port in a background thread, driven by Playwright with Debian's chromium (never a browser
Playwright downloads). Select them with ``-m browser``."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Playwright, sync_playwright

from plugin.cli.sandbox import SandboxSetup, build_sandbox, prepare_sandbox
from plugin.sandbox.app import sandbox_of
from plugin.sandbox.instance import SandboxEhr

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class RunningSandbox:
    base_url: str
    setup: SandboxSetup
    app: FastAPI

    @property
    def ehr(self) -> SandboxEhr:
        return sandbox_of(self.app)

    @property
    def app_database(self) -> Path:
        return self.setup.settings.data_dir / "app.sqlite3"


@pytest.fixture(scope="module")
def running_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    port = _free_port()
    setup = prepare_sandbox(tmp_path_factory.mktemp("browser-sandbox"), port)
    # An EHR launch inside the iframe authorizes without a consent screen: the sandbox's own
    # consent page refuses to be framed (frame-ancestors 'none').
    config = setup.config.model_copy(update={"database_file": None, "auto_consent": True})
    setup = SandboxSetup(config, setup.settings)
    app = build_sandbox(setup)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, name="sandbox-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.05)
    try:
        yield RunningSandbox(f"http://127.0.0.1:{port}", setup, app)
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS
