"""The results page in a real browser: each save the page sends counts one more, and leaving
the page while a save is still under way loses nothing typed — the save sent on leaving names
the page's revision and its next count, whatever became of the one under way."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, FrameLocator, Page, Route, expect

from tests.browser.conftest import RunningSandbox

pytestmark = pytest.mark.browser

PATIENT = "lumbar-candidate"
LEVELS = ("L3-L4", "L4-L5", "L5-S1")


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def results_page(page: Page, base_url: str) -> FrameLocator:
    """Launch the lumbar candidate in the EHR, attest, set up three discs: the results page."""
    page.goto(f"{base_url}/ehr")
    page.locator("tr", has_text=PATIENT).get_by_role("button").click()
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


def stored_location(
    database: Path, level: str, *, unlike: str | None = None, seconds: float = 10
) -> str | None:
    """Where the pain was felt at `level` in the study's stored draft, once it has one (other
    than `unlike`), or what it has after `seconds`."""
    deadline = time.monotonic() + seconds
    found = None
    while time.monotonic() < deadline:
        with sqlite3.connect(database) as db:
            (study_json,) = db.execute("select study_json from study_drafts").fetchone()
        found = next(
            (
                lv.get("pain_location")
                for lv in json.loads(study_json)["levels"]
                if lv["level"] == level
            ),
            None,
        )
        if found and found != unlike:
            return str(found)
        time.sleep(0.1)
    return found


def sequence_of(app: FrameLocator) -> int:
    return int(app.locator("[data-sequence]").input_value())


def test_each_save_counts_and_leaving_mid_save_keeps_the_typing(
    running_sandbox: RunningSandbox, page: Page
) -> None:
    app = results_page(page, running_sandbox.base_url)
    form = app.locator("form[data-autosave]")
    assert sequence_of(app) == 0
    app.locator("#lv-L4-L5-opening_pressure_psi").fill("10")
    expect(form).to_have_attribute("data-save-state", "saved")
    first = sequence_of(app)
    assert first >= 1
    app.locator("#lv-L4-L5-peak_pressure_psi").fill("40")
    expect(form).to_have_attribute("data-save-state", "saved")
    assert sequence_of(app) > first
    revision = app.locator("[data-revision]").input_value()

    # The next save never reaches the app (held on the way, then dropped with the page); the
    # one sent on leaving goes through.
    held: list[Route] = []

    def hold_the_first(route: Route) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route("**/levels/autosave", hold_the_first)
    location = app.locator("#lv-L4-L5-pain_location")
    location.fill("Central")
    expect(form).to_have_attribute("data-save-state", "saving")
    location.press_sequentially(" low back")
    frame = next(f for f in page.frames if f.url.endswith("/levels"))
    frame.goto(frame.url)  # leaving: a reload of the app's frame
    assert len(held) == 1  # the save under way never arrived
    # The save sent on leaving outlives the page; the reload may be answered before it lands.
    assert stored_location(running_sandbox.app_database, "L4-L5") == "Central low back"
    page.unroute("**/levels/autosave")
    frame.goto(frame.url)
    expect(location).to_have_value("Central low back")
    # Saved from the page's own revision: the next one, not a guess beyond it.
    assert app.locator("[data-revision]").input_value() == str(int(revision) + 1)
    assert sequence_of(app) == 0  # a new render: a new page, counting afresh

    # Nothing typed after the save under way: leaving still sends the page's values, as that
    # save may never arrive.
    held.clear()
    page.route("**/levels/autosave", hold_the_first)
    location.fill("Left buttock")
    expect(form).to_have_attribute("data-save-state", "saving")
    frame.goto(frame.url)
    assert len(held) == 1
    assert stored_location(running_sandbox.app_database, "L4-L5", unlike="Central low back") == (
        "Left buttock"
    )
