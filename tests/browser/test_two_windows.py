"""Two patients open side by side in one browser (two EHR workspaces sharing one cookie
store): each app window keeps its own session, and typing in either is saved for its own
patient — the second launch does not sign the first window out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.browser.conftest import RunningSandbox
from tests.browser.study_pages import results_page, stored_location

pytestmark = pytest.mark.browser

FIRST = "lumbar-candidate"
SECOND = "cervical-candidate"


@pytest.fixture
def context(chromium: Browser) -> Iterator[BrowserContext]:
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(15_000)
    yield context
    context.close()


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
    assert stored_location(database, "L4-L5", patient=FIRST) == "Central low back"
    assert stored_location(database, "L5-S1", patient=FIRST) == "Right leg"
    assert stored_location(database, "L4-L5", patient=SECOND) == "Left buttock"
    # Each window shows its own patient's form.
    assert first.locator("input[name=patient]").first.input_value() == FIRST
    assert second.locator("input[name=patient]").first.input_value() == SECOND
