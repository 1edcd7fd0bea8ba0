"""The results page in a real browser: each save the page sends counts one more, and leaving
the page while a save is still under way loses nothing typed — the save sent on leaving names
the page's revision and its next count, whatever became of the one under way."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, FrameLocator, Page, Route, expect

from tests.browser.conftest import RunningSandbox
from tests.browser.study_pages import results_page, stored_location

pytestmark = pytest.mark.browser


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


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
