"""A clinician's whole study in a real browser, inside the sandbox EHR's iframe: launch the good
lumbar candidate → candidacy → attest → set up three discs (L3-L4 control, L4-L5, L5-S1) →
enter the results (typed, Enter moving on, saved as typed) → preview → sign → the status page
lists what was written. Then the resources are read back from the sandbox FHIR server and
compared with `plugin.fhir_mapping`'s mapping of the same signed study. A screenshot of each
page goes to test-artifacts/browser/."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, FrameLocator, Page, expect

from plugin.cli.sandbox import SANDBOX_CLIENT_ID
from plugin.fhir_mapping import map_study
from plugin.fhir_mapping.identifiers import IDENTIFIER_SYSTEM
from plugin.interpretation.engine import interpret_study
from plugin.interpretation.rule_set import default_rule_sets
from plugin.report.render import render_report
from plugin.study.validation import parse_study
from tests.browser.conftest import RunningSandbox

pytestmark = pytest.mark.browser

PATIENT = "lumbar-candidate"
HOSTILE = "<script>alert('x')</script> \"central\" low back — боль"
RESULTS: dict[str, dict[str, str]] = {
    "L3-L4": {
        "opening_pressure_psi": "12",
        "peak_pressure_psi": "95",
        "total_volume_ml": "1,5",
        "pain_intensity": "0",
    },
    "L4-L5": {
        "opening_pressure_psi": "10",
        "onset_pressure_psi": "18",
        "peak_pressure_psi": "40",
        "onset_volume_ml": "1",
        "total_volume_ml": "2",
        "pain_intensity": "8",
    },
    "L5-S1": {
        "opening_pressure_psi": "14",
        "onset_pressure_psi": "60",
        "peak_pressure_psi": "80",
        "onset_volume_ml": "2.5",
        "total_volume_ml": "3",
        "pain_intensity": "4",
    },
}
RESPONSES = {"L3-L4": "none", "L4-L5": "concordant", "L5-S1": "discordant"}
# Values set on the server, so read back and compared as a server would differ: not content.
_SERVER_OWNED = ("id", "meta")


def shoot(page: Page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def shoot_app(page: Page, artifacts: Path, name: str) -> None:
    """The app's page alone, whole (the EHR frame shows only what fits on its screen)."""
    frame = next(f for f in page.frames if "/app/" in f.url)
    whole = page.context.new_page()
    whole.set_viewport_size({"width": 1280, "height": 900})
    whole.goto(frame.url)
    whole.screenshot(path=str(artifacts / f"{name}-app.png"), full_page=True)
    whole.close()


# The lowest contrast between any text and the background behind it (WCAG 2 relative
# luminance), computed in the page: the pages must stay at 4.5:1 or more.
LOWEST_CONTRAST_JS = """
() => {
  const channel = c => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const parse = text => (text.match(/[0-9.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = element => {
    for (let node = element; node; node = node.parentElement) {
      const rgba = parse(getComputedStyle(node).backgroundColor);
      if (rgba.length === 3 || rgba[3] > 0) return rgba.slice(0, 3);
    }
    return [255, 255, 255];
  };
  let lowest = { ratio: 21, text: "" };
  for (const element of document.body.querySelectorAll("*")) {
    const own = [...element.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const style = getComputedStyle(element);
    if (!own || style.visibility === "hidden" || element.offsetParent === null) continue;
    const [a, b] = [luminance(parse(style.color)), luminance(background(element))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < lowest.ratio) lowest = { ratio, text: element.textContent.trim().slice(0, 60) };
  }
  return lowest;
}
"""


def assert_contrast(page: Page) -> None:
    frame = next(f for f in page.frames if "/app/" in f.url)
    lowest = frame.evaluate(LOWEST_CONTRAST_JS)
    assert lowest["ratio"] >= 4.5, lowest


def type_results(app: FrameLocator, page: Page) -> None:
    """Keyboard-first: type each value and press Enter to move on, as at the table."""
    for level, values in RESULTS.items():
        for field, value in values.items():
            box = app.locator(f"#lv-{level}-{field}")
            box.click()
            box.press_sequentially(value)
            box.press("Enter")
            # Enter moved the focus on, and did not submit anything.
            expect(box).not_to_be_focused()
        app.locator(f"#lv-{level}-pain_response-{RESPONSES[level]}").check()
    app.locator("#lv-L4-L5-pain_location").fill(HOSTILE)
    app.locator("#lv-L4-L5-dallas_grade").select_option("4")
    app.locator("#performed-local").fill("2026-11-20T09:30")
    expect(app.locator("form[data-autosave]")).to_have_attribute("data-save-state", "saved")
    expect(app.locator("[data-save-status]")).to_contain_text("All changes saved")


def written_rows(app: FrameLocator) -> list[tuple[str, str]]:
    """(resource type, server id) of each row of the status page's table."""
    rows = app.locator("table.written tbody tr")
    found = []
    for index in range(rows.count()):
        cells = rows.nth(index).locator("td")
        found.append((cells.nth(1).inner_text().strip(), cells.nth(2).inner_text().strip()))
    return found


def signed_study(database: Path) -> tuple[dict[str, Any], float, str | None]:
    """The study as signed (its JSON and signing time) and the candidacy summary it cites."""
    with sqlite3.connect(database) as db:
        study_json, signed_at, draft_id = db.execute(
            "select study_json, signed_at, draft_id from signed_reports order by signed_at desc"
        ).fetchone()
        summary = db.execute(
            "select summary from study_candidacy where draft_id = ?", (draft_id,)
        ).fetchone()
    return json.loads(study_json), signed_at, summary[0] if summary else None


def _identifier(resource: Mapping[str, Any]) -> str:
    """The product's identity of a resource (Provenance has none in R4: its tag)."""
    for identifier in resource.get("identifier") or []:
        if identifier.get("system") == IDENTIFIER_SYSTEM:
            return str(identifier["value"])
    for tag in (resource.get("meta") or {}).get("tag") or []:
        if tag.get("system") == IDENTIFIER_SYSTEM:
            return str(tag["code"])
    raise AssertionError(f"{resource.get('resourceType')} carries no product identifier")


def comparable(value: Any, names: Mapping[str, str]) -> Any:
    """A resource with server-owned parts dropped and each reference to another resource of
    the report replaced by that resource's identifier (server ids and the transaction's
    urn:uuid placeholders name the same resource differently)."""
    if isinstance(value, dict):
        kept = {
            key: comparable(item, names) for key, item in value.items() if key not in _SERVER_OWNED
        }
        reference = kept.get("reference")
        if isinstance(reference, str) and reference in names:
            kept["reference"] = names[reference]
        return kept
    if isinstance(value, list):
        return [comparable(item, names) for item in value]
    return value


def test_a_clinician_records_and_signs_a_study_inside_the_ehr(
    running_sandbox: RunningSandbox, chromium: Browser, artifacts: Path
) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)

    # The EHR: choose the good lumbar candidate and launch the app in its iframe.
    page.goto(f"{running_sandbox.base_url}/ehr")
    shoot(page, artifacts, "01-ehr-patients")
    page.locator("tr", has_text=PATIENT).get_by_role("button", name=re.compile("^Launch")).click()
    app = page.frame_locator("iframe.app-frame")
    expect(app.get_by_role("heading", name="Candidacy for discography")).to_be_visible()
    expect(app.locator(".patient-banner")).to_contain_text("Lumbar-Candidate Testpatient")
    shoot(page, artifacts, "02-candidacy")
    shoot_app(page, artifacts, "02-candidacy")
    assert_contrast(page)

    # Candidacy: give both attestations and continue.
    app.get_by_label("Imaging does not explain the patient's pain.").check()
    app.get_by_label(re.compile("the decision depends on the discography result")).check()
    app.get_by_role("button", name="Save the assessment and set up the study").click()
    expect(app.get_by_role("heading", name="Study setup")).to_be_visible()

    # Setup: three discs, L3-L4 the control; the blinded order is drawn on saving.
    app.get_by_label("Lumbar", exact=True).check()
    for level in RESULTS:
        app.get_by_label(f"Inject {level}", exact=True).check()
    app.get_by_label("L3-L4 is a control").check()
    app.get_by_label("Approach").fill("Left posterolateral extrapedicular")
    app.get_by_role("button", name="Save", exact=True).click()
    order = app.locator(".order-list li")
    expect(order).to_have_count(3)
    shoot(page, artifacts, "03-setup")
    shoot_app(page, artifacts, "03-setup")
    assert_contrast(page)
    app.get_by_role("button", name="Save and record results").click()
    expect(app.get_by_role("heading", name="Results")).to_be_visible()

    # Results: validated as typed with the core's message beside the field …
    intensity = app.locator("#lv-L5-S1-pain_intensity")
    intensity.fill("12")
    message = app.locator("#lv-L5-S1-pain_intensity-error")
    expect(message).to_contain_text("Must be at most 10 (got 12)")
    expect(intensity).to_have_attribute("aria-invalid", "true")
    intensity.fill("")
    expect(message).to_be_hidden()
    # … typed, saved as typed, the interpretation forming beside them.
    type_results(app, page)
    # A reload of the app's frame loses nothing: every value was saved as it was typed.
    frame = next(f for f in page.frames if f.url.endswith("/levels"))
    frame.goto(frame.url)
    expect(app.locator("#lv-L4-L5-onset_pressure_psi")).to_have_value("18")
    expect(app.locator("#lv-L4-L5-pain_location")).to_have_value(HOSTILE)
    panel = app.locator("[data-interpretation]")
    expect(panel).to_contain_text("Discogenic level identified: L4-L5 (definite)")
    shoot(page, artifacts, "04-results")
    shoot_app(page, artifacts, "04-results")
    assert_contrast(page)
    app.get_by_role("button", name="Save and preview the report").click()

    # Preview: the report itself, in its own frame.
    expect(app.get_by_role("heading", name="Preview and sign")).to_be_visible()
    report = app.frame_locator("iframe.report-frame")
    expect(report.locator("h1")).to_contain_text("discography", ignore_case=True)
    expect(report.locator("body")).to_contain_text(HOSTILE)  # shown as text, never run
    shoot(page, artifacts, "05-preview")
    shoot_app(page, artifacts, "05-preview")

    # Signing without the confirmation: the error summary, focused, names the box.
    app.get_by_role("button", name="Sign and send to the chart").click()
    summary = app.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Confirmation: Tick the box to confirm")

    # Sign: confirm, sign, and watch the status page until the chart has it.
    app.get_by_label(re.compile("I have reviewed this report")).check()
    app.get_by_role("button", name="Sign and send to the chart").click()
    expect(app.get_by_role("heading", name="Sent to the chart")).to_be_visible()
    expect(app.locator("main")).to_contain_text("Version 1 is in the chart", timeout=20_000)
    shoot(page, artifacts, "06-status")
    shoot_app(page, artifacts, "06-status")
    assert_contrast(page)
    rows = written_rows(app)
    context.close()

    assert sorted(t for t, _ in rows) == [
        "DiagnosticReport",
        "DocumentReference",
        "Observation",
        "Observation",
        "Observation",
        "Procedure",
        "Provenance",
    ]
    # Read back what the status page says was written, and map the signed study again.
    token = running_sandbox.ehr.issue_access_token(
        SANDBOX_CLIENT_ID, "patient/*.rs", patient=PATIENT
    )
    fhir_base = running_sandbox.setup.config.fhir_base
    with httpx.Client(headers={"Authorization": f"Bearer {token.token}"}) as fhir:
        stored = [fhir.get(f"{fhir_base}/{kind}/{server_id}").json() for kind, server_id in rows]
    study_json, signed_at, summary = signed_study(running_sandbox.app_database)
    validated = parse_study(study_json)
    interpretation = interpret_study(validated.study)
    issued = datetime.fromtimestamp(signed_at, UTC).replace(microsecond=0)
    mapped = map_study(
        validated.study,
        interpretation,
        render_report(
            validated.study,
            interpretation,
            issued=issued,
            candidacy_summary=summary,
            warnings=validated.warnings,
        ),
        issued=issued,
        document_type=running_sandbox.setup.settings.ehr[0].document_type,
        library=default_rule_sets(),
    )
    expected = {
        _identifier(entry["resource"]): entry for entry in mapped.transaction_bundle()["entry"]
    }
    by_identifier = {_identifier(resource): resource for resource in stored}
    assert set(by_identifier) == set(expected)  # every resource, each once
    names = {f"{r['resourceType']}/{r['id']}": _identifier(r) for r in stored}
    names |= {entry["fullUrl"]: key for key, entry in expected.items()}
    for key, entry in expected.items():
        assert comparable(by_identifier[key], names) == comparable(entry["resource"], names), key
    # The free text went through the browser, the page and the chart unchanged.
    observation = by_identifier[f"{validated.study.id}.level.L4-L5"]
    location = next(
        c for c in observation["component"] if c["code"]["coding"][0]["code"] == "pain-location"
    )
    assert location["valueString"] == HOSTILE
