"""Shared steps of the browser tests: launching a patient through the sandbox EHR up to the
results page, and reading what the app stored."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from pathlib import Path

from playwright.sync_api import FrameLocator, Page, expect

LUMBAR_CANDIDATE = "lumbar-candidate"
LEVELS = ("L3-L4", "L4-L5", "L5-S1")


def results_page(page: Page, base_url: str, patient: str = LUMBAR_CANDIDATE) -> FrameLocator:
    """Launch `patient` in the EHR, attest, set up three lumbar discs: the results page."""
    page.goto(f"{base_url}/ehr")
    page.locator("tr", has_text=patient).get_by_role("button", name=re.compile("^Launch")).click()
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
    database: Path,
    level: str,
    *,
    patient: str = LUMBAR_CANDIDATE,
    unlike: str | None = None,
    seconds: float = 10,
) -> str | None:
    """Where the pain was felt at `level` in `patient`'s stored draft, once it has one (other
    than `unlike`), or what it has after `seconds`."""
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
            if found and found != unlike:
                return str(found)
        time.sleep(0.1)
    return found
