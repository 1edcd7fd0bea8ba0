"""The procedure's date and time in a real browser set to Berlin time: the offset stored with
it is the one in force on the procedure's date (summer or winter time), not today's."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import RunningSandbox
from tests.browser.test_results_autosave import results_page

pytestmark = pytest.mark.browser


@pytest.fixture
def berlin_page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(
        viewport={"width": 1280, "height": 1000}, timezone_id="Europe/Berlin"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def stored_performed(database: Path, expected: str, seconds: float = 10) -> str | None:
    """The study's stored `performed`, once it is `expected` (or what it is after `seconds`)."""
    deadline = time.monotonic() + seconds
    found = None
    while time.monotonic() < deadline:
        with sqlite3.connect(database) as db:
            (study_json,) = db.execute("select study_json from study_drafts").fetchone()
        found = json.loads(study_json).get("performed")
        if found == expected:
            return str(found)
        time.sleep(0.1)
    return found


def test_the_offset_is_the_one_on_the_procedure_date(
    running_sandbox: RunningSandbox, berlin_page: Page
) -> None:
    app = results_page(berlin_page, running_sandbox.base_url)
    when = app.locator("#performed-local")
    offset = app.locator("[data-time-zone-offset]")
    form = app.locator("form[data-autosave]")

    when.fill("2026-07-01T10:00")
    expect(offset).to_have_value("+02:00")  # summer time
    expect(form).to_have_attribute("data-save-state", "saved")
    database = running_sandbox.app_database
    assert stored_performed(database, "2026-07-01T10:00:00+02:00") == "2026-07-01T10:00:00+02:00"

    when.fill("2026-01-15T10:00")
    expect(offset).to_have_value("+01:00")  # winter time
    expect(form).to_have_attribute("data-save-state", "saved")
    assert stored_performed(database, "2026-01-15T10:00:00+01:00") == "2026-01-15T10:00:00+01:00"
