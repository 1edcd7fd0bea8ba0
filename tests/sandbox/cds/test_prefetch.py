"""The prefetch comes from the sandbox's own FHIR store, template by template."""

from __future__ import annotations

from plugin.sandbox.cds.prefetch import prefetch_from_store
from tests.sandbox.conftest import Sandbox

TEMPLATES = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "encounter": "Encounter/{{context.encounterId}}",  # not in the context: left out
    "nobody": "Patient/no-such-patient",
}


async def test_prefetch_reads_the_patients_chart_from_the_store(sandbox: Sandbox) -> None:
    token = sandbox.token("patient/*.rs", "pregnant")
    found = await prefetch_from_store(
        sandbox.ehr, TEMPLATES, {"patientId": "pregnant", "userId": "Practitioner/x"}, token
    )
    assert found["patient"]["id"] == "pregnant"
    conditions = found["conditions"]
    assert conditions["resourceType"] == "Bundle" and conditions["type"] == "searchset"
    stored = await sandbox.ehr.store.candidates("Condition", "pregnant")
    assert {e["resource"]["id"] for e in conditions["entry"]} == {s.id for s in stored}
    assert stored
    assert "encounter" not in found
    # Another patient than the token's: the FHIR server refuses it, so it is left out rather
    # than sent as data.
    assert "nobody" not in found or found["nobody"] is None


async def test_a_search_of_several_pages_is_prefetched_whole(sandbox: Sandbox) -> None:
    # An EHR's prefetch holds the whole search: a first page alone (with a `next` link) would
    # make the service fetch the rest itself.
    token = sandbox.token("patient/*.rs", "pregnant")
    found = await prefetch_from_store(
        sandbox.ehr,
        {"conditions": "Condition?patient={{context.patientId}}&_count=1"},
        {"patientId": "pregnant", "userId": "Practitioner/x"},
        token,
    )
    stored = await sandbox.ehr.store.candidates("Condition", "pregnant")
    assert len(stored) > 1
    conditions = found["conditions"]
    assert {e["resource"]["id"] for e in conditions["entry"]} == {s.id for s in stored}
    assert all(link.get("relation") != "next" for link in conditions.get("link", []))
