"""An amendment against the sandbox EHR, through the real app: after the second version the
chart holds exactly one current note (the new one; the old one superseded in the same
transaction, If-Match on the version the app wrote) and the structured results carry the
amended values (`amended` where FHIR R4 has the word). Where the EHR grants no update, the
status page says what stayed as it was — and never that it was written."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from plugin.fhir_mapping.identifiers import IDENTIFIER_SYSTEM
from plugin.sandbox.behaviour import Fault, Interaction, SandboxBehaviour, SandboxRequest
from tests.smart_app.workflow import conftest as workflow
from tests.smart_app.workflow.conftest import (
    PATIENT,
    RESULTS,
    Browser,
    Sandbox,
    SandboxFactory,
    level_fields,
    page_text,
)
from tests.smart_app.workflow.test_signing_routes import ready_to_sign, sign

pytestmark = pytest.mark.integration

# The sandbox EHR hosting the app, as the workflow tests have it.
id_token_key = workflow.id_token_key
make_sandbox = workflow.make_sandbox
sandbox = workflow.sandbox

AMENDED_DATE = "2026-11-21T10:15:00-05:00"
STRUCTURED = ("Procedure", "Observation", "DiagnosticReport")


async def ours(sandbox: Sandbox, resource_type: str) -> list[dict[str, Any]]:
    """The product's resources of a type in the patient's chart, as they are now."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url="http://127.0.0.1:8000"
    ) as fhir:
        found = await fhir.get(
            f"/fhir/{resource_type}",
            params={"patient": PATIENT, "_count": "200"},
            headers=sandbox.fhir_token(),
        )
    assert found.status_code == 200, found.text
    return [
        entry["resource"]
        for entry in found.json().get("entry", [])
        if any(
            i.get("system") == IDENTIFIER_SYSTEM for i in entry["resource"].get("identifier", [])
        )
    ]


def when(resource: dict[str, Any]) -> str | None:
    value = resource.get("performedDateTime") or resource.get("effectiveDateTime")
    return value if isinstance(value, str) else None


async def sign_and_amend_the_date(sandbox: Sandbox) -> Browser:
    """Version 1 written; version 2, the procedure a day later, signed and sent."""
    browser = await ready_to_sign(sandbox)
    await browser.follow(await sign(browser))
    await sandbox.write_to_chart()
    await browser.get(f"{browser.study_url}/levels")
    fields = level_fields(
        browser, RESULTS, action="preview", **{"performed-local": "2026-11-21T10:15"}
    )
    await browser.follow(await browser.post(f"{browser.study_url}/levels", fields))
    await browser.follow(await sign(browser))
    await sandbox.write_to_chart()
    return browser


async def test_an_amendment_leaves_one_current_note_and_amended_results(
    sandbox: Sandbox,
) -> None:
    transactions: list[dict[str, Any]] = []

    def watch(request: SandboxRequest) -> Fault | None:
        if request.interaction is Interaction.TRANSACTION:
            transactions.append(request.body)
        return None

    sandbox.ehr.behaviour = SandboxBehaviour(fault=watch)
    browser = await sign_and_amend_the_date(sandbox)
    notes = await ours(sandbox, "DocumentReference")
    current = [n for n in notes if n["status"] == "current"]
    assert len(current) == 1 and current[0]["docStatus"] == "amended"
    (old,) = [n for n in notes if n["status"] == "superseded"]
    assert current[0]["relatesTo"] == [
        {"code": "replaces", "target": {"reference": f"DocumentReference/{old['id']}"}}
    ]
    for resource_type in STRUCTURED:
        for resource in await ours(sandbox, resource_type):
            assert when(resource) == AMENDED_DATE, resource_type
            assert resource["meta"]["versionId"] == "2", resource_type
            # R4: Observation and DiagnosticReport have `amended`; a Procedure does not.
            expected = "completed" if resource_type == "Procedure" else "amended"
            assert resource["status"] == expected, resource_type
    # The old note was superseded in the amendment's own transaction, on the version read.
    supersede = [
        e
        for e in transactions[-1]["entry"]
        if e["request"]["url"] == f"DocumentReference/{old['id']}"
    ]
    assert [e["request"] for e in supersede] == [
        {"method": "PUT", "url": f"DocumentReference/{old['id']}", "ifMatch": 'W/"1"'}
    ]
    text = page_text(await browser.get(f"{browser.study_url}/status"))
    assert "previous note marked superseded" in text


async def test_a_note_changed_in_the_chart_meanwhile_is_not_overwritten(
    sandbox: Sandbox,
) -> None:
    """Someone else changed the first note after version 1: If-Match fails the whole
    transaction, nothing of version 2 is filed, and the page says why."""
    browser = await ready_to_sign(sandbox)
    await browser.follow(await sign(browser))
    await sandbox.write_to_chart()
    (note,) = await ours(sandbox, "DocumentReference")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url="http://127.0.0.1:8000"
    ) as fhir:
        token = sandbox.ehr.issue_access_token(
            "discogram-sandbox", "patient/*.cruds", patient=PATIENT
        )
        changed = {**note, "description": "Edited in the EHR by someone else"}
        changed.pop("meta")
        response = await fhir.put(
            f"/fhir/DocumentReference/{note['id']}",
            json=changed,
            headers={"Authorization": f"Bearer {token.token}"},
        )
        assert response.status_code == 200, response.text
    await browser.get(f"{browser.study_url}/levels")
    fields = level_fields(
        browser, RESULTS, action="preview", **{"performed-local": "2026-11-21T10:15"}
    )
    await browser.follow(await browser.post(f"{browser.study_url}/levels", fields))
    await browser.follow(await sign(browser))
    await sandbox.write_to_chart()
    notes = await ours(sandbox, "DocumentReference")
    assert [n["status"] for n in notes] == ["current"]  # no second note, nothing overwritten
    for resource_type in STRUCTURED:
        for resource in await ours(sandbox, resource_type):
            assert resource["meta"]["versionId"] == "1", resource_type
    text = page_text(await browser.get(f"{browser.study_url}/status"))
    assert "Version 2: Not sent" in text


async def test_without_update_scopes_the_status_page_says_what_stayed_as_it_was(
    make_sandbox: SandboxFactory,
) -> None:
    withheld = [
        f"patient/{t}.u"
        for t in ("Procedure", "Observation", "DiagnosticReport", "DocumentReference")
    ]
    sandbox = await make_sandbox(withheld_scopes=withheld)
    browser = await sign_and_amend_the_date(sandbox)
    text = page_text(await browser.get(f"{browser.study_url}/status"))
    version_2 = text[text.index("Version 2 (amendment)") : text.index("Version 1: In the chart")]
    assert "The previous clinical note stays 'current' in the EHR" in version_2
    assert "the procedure filed earlier stays as it was" in version_2
    assert "the diagnostic report filed earlier stays as it was" in version_2
    assert "level result filed earlier stays as it was" in version_2
    for claim in ("procedure, level results", "updated", "superseded"):
        assert claim not in version_2, claim
    for resource_type in STRUCTURED:
        for resource in await ours(sandbox, resource_type):
            assert resource["meta"]["versionId"] == "1", resource_type
