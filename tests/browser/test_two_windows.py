"""Two patients open side by side in one browser (two EHR workspaces sharing one cookie
store): each app window keeps its own session, and typing in either is saved for its own
patient — the second launch does not sign the first window out."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, FrameLocator, Page, expect

from tests.browser.conftest import RunningSandbox

pytestmark = pytest.mark.browser

FIRST = "lumbar-candidate"
SECOND = "cervical-candidate"
LEVELS = ("L3-L4", "L4-L5", "L5-S1")


@pytest.fixture
def context(chromium: Browser) -> Iterator[BrowserContext]:
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(15_000)
    yield context
    context.close()


def results_page(page: Page, base_url: str, patient: str) -> FrameLocator:
    """Launch `patient` in the EHR, attest, set up three lumbar discs: the results page."""
    page.goto(f"{base_url}/ehr")
    page.locator("tr", has_text=patient).get_by_role("button").click()
    app = page.frame_locator("iframe.app-frame")
    app.get_by_label("Imaging does not explain the patient's pain.").check()
    app.get_by_label(re.compile("the decision depends on the discography result")).check()
    app.get_by_role("button", name="Save the assessment and set up the study").click()
    app.get_by_label("Lumbar", exact=True).check()
    for level in LEVELS:
        app.get_by_label(f"Inject {level}", exact=True).check()
    app.get_by_label("L3-L4 is a control").check()
    app.get_by_role("button", name="Save and record results").click()
    expect(app.get_by_role("heading", name="Results")).to_be_visible()
    return app


def stored_location(database: Path, patient: str, level: str, seconds: float = 10) -> str | None:
    """Where the pain was felt at `level` in `patient`'s stored draft, once it has one."""
    deadline = time.monotonic() + seconds
    found = None
    while time.monotonic() < deadline:
        with sqlite3.connect(database) as db:
            row = db.execute(
                "select study_json from study_drafts where patient_id = ?", (patient,)
            ).fetchone()
        if row is not None:
            levels = json.loads(row[0])["levels"]
            found = next((lv.get("pain_location") for lv in levels if lv["level"] == level), None)
            if found:
                return str(found)
        time.sleep(0.1)
    return found


def test_two_patients_in_two_windows_both_keep_saving(
    running_sandbox: RunningSandbox, context: BrowserContext
) -> None:
    first_page, second_page = context.new_page(), context.new_page()
    first = results_page(first_page, running_sandbox.base_url, FIRST)
    second = results_page(second_page, running_sandbox.base_url, SECOND)  # signs nobody out

    for app, typed in ((first, "Central low back"), (second, "Left buttock")):
        app.locator("#lv-L4-L5-pain_location").fill(typed)
        expect(app.locator("form[data-autosave]")).to_have_attribute("data-save-state", "saved")
    # The first window again, after the second typed: still its own session.
    first.locator("#lv-L5-S1-pain_location").fill("Right leg")
    expect(first.locator("form[data-autosave]")).to_have_attribute("data-save-state", "saved")

    database = running_sandbox.app_database
    assert stored_location(database, FIRST, "L4-L5") == "Central low back"
    assert stored_location(database, FIRST, "L5-S1") == "Right leg"
    assert stored_location(database, SECOND, "L4-L5") == "Left buttock"
    # Each window shows its own patient's form.
    assert first.locator("input[name=patient]").first.input_value() == FIRST
    assert second.locator("input[name=patient]").first.input_value() == SECOND
