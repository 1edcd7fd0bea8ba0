"""Each write strategy against a sandbox EHR that behaves like it, read back from the chart;
amendments, a change made in the EHR meanwhile, and the history of versions."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from plugin.fhir_mapping.identifiers import IDENTIFIER_SYSTEM
from plugin.sandbox.behaviour import CannedResponse, Fault, SandboxRequest
from smart_app.outbox import ItemState
from tests.faults.checks import assert_in_chart_once
from tests.faults.conftest import RigFactory
from tests.faults.harness import PATIENT, Break, WriteBackRig
from tests.writeback.studies import lumbar_study

NON_LATIN = 'Low back <script>alert("x")</script> — «боль» 腰痛'


async def written(rig: WriteBackRig, item_id: str) -> dict[str, dict[str, object]]:
    """The chart's copy of each resource the item recorded, by step key."""
    entries = await rig.store.ledger_entries(item_id)
    found = {}
    for key, entry in entries.items():
        if entry.server_id is None:
            continue
        (resource,) = await rig.chart(entry.resource_type, _id=entry.server_id)
        found[key] = resource
    return found


def token(study_key: str, suffix: str) -> str:
    return f"{IDENTIFIER_SYSTEM}|{study_key}.{suffix}"


async def test_full_files_the_whole_report_in_one_transaction(make: RigFactory) -> None:
    rig = await make(strategy="full")
    signed = await rig.sign()
    await rig.drain(rig.worker())
    await assert_in_chart_once(rig, signed.item_id)
    chart = await written(rig, signed.item_id)
    assert len(chart) == 7
    report = chart[token(signed.study_key, "report")]
    levels = [chart[token(signed.study_key, f"level.{n}")] for n in ("L3-L4", "L4-L5", "L5-S1")]
    assert report["result"] == [{"reference": f"Observation/{o['id']}"} for o in levels]
    procedure = chart[token(signed.study_key, "procedure")]
    assert procedure["report"] == [{"reference": f"DiagnosticReport/{report['id']}"}]
    assert procedure["subject"]["reference"] == f"Patient/{PATIENT}"


@pytest.mark.parametrize("versions", [True, False])
async def test_per_resource_files_each_resource_linked_to_the_others(
    make: RigFactory, versions: bool
) -> None:
    # Without versions, the linking update first checks the Procedure is as it was created:
    # without the report it could not name yet.
    rig = await make(strategy="per-resource")
    rig.behave("per-resource", versions=versions)
    signed = await rig.sign()
    await rig.drain(rig.worker())
    item = await rig.item(signed.item_id)
    assert item.state is ItemState.WRITTEN, item.last_error
    await assert_in_chart_once(rig, signed.item_id)
    chart = await written(rig, signed.item_id)
    report = chart[token(signed.study_key, "report")]
    procedure = chart[token(signed.study_key, "procedure")]
    level = chart[token(signed.study_key, "level.L4-L5")]
    assert level["partOf"] == [{"reference": f"Procedure/{procedure['id']}"}]
    # Created before its report existed, then linked to it by an update.
    assert procedure["report"] == [{"reference": f"DiagnosticReport/{report['id']}"}]
    assert procedure["meta"].get("versionId") == ("2" if versions else None)
    note = chart[token(signed.study_key, "document")]
    assert note["context"]["related"] == [{"reference": f"DiagnosticReport/{report['id']}"}]
    provenance = chart[token(signed.study_key, "provenance")]
    assert len(provenance["target"]) == 6
    plan = await rig.plan(signed.item_id)
    assert plan.explanation.startswith("This EHR does not accept FHIR transactions.")


@pytest.mark.parametrize("pdf", [False, True])
async def test_an_epic_like_ehr_gets_one_clinical_note(make: RigFactory, pdf: bool) -> None:
    rig = await make(strategy="document", document_pdf=pdf)
    study = lumbar_study()
    study["levels"][1]["pain_location"] = NON_LATIN
    draft = await rig.drafts.create(rig.owner, study)
    signed = await rig.signing.sign(
        rig.owner, draft.id, revision=draft.revision, session_id=rig.session_id
    )
    await rig.drain(rig.worker())
    await assert_in_chart_once(rig, signed.item_id)
    (note,) = (await written(rig, signed.item_id)).values()
    assert (note["status"], note["docStatus"]) == ("current", "final")
    assert note["context"]["encounter"] == [{"reference": "Encounter/lumbar-candidate-enc-02"}]
    types = [c["attachment"]["contentType"] for c in note["content"]]
    assert types == (
        ["application/pdf", "text/plain; charset=utf-8"] if pdf else ["text/plain; charset=utf-8"]
    )
    text = base64.b64decode(note["content"][-1]["attachment"]["data"]).decode("utf-8")
    assert NON_LATIN in text  # free text arrives as typed, in UTF-8
    ours = f"{IDENTIFIER_SYSTEM}|"
    assert await rig.chart("DiagnosticReport", patient=PATIENT, identifier=ours) == []
    item = await rig.item(signed.item_id)
    assert item.strategy == "document"
    plan = await rig.plan(signed.item_id)
    assert "This EHR does not accept DiagnosticReport." in plan.explanation


async def amend(rig: WriteBackRig, **changes: object) -> str:
    """Sign the next version of the rig's (only) study; returns its item id."""
    (draft,) = await rig.drafts.drafts(rig.owner)
    study = lumbar_study() | changes
    draft = await rig.drafts.save(rig.owner, draft.id, revision=draft.revision, study=study)
    signed = await rig.signing.sign(
        rig.owner, draft.id, revision=draft.revision, session_id=rig.session_id
    )
    return signed.item_id


@pytest.mark.parametrize("strategy", ["full", "per-resource"])
async def test_an_amendment_writes_new_versions_never_a_silent_overwrite(
    make: RigFactory, strategy: str
) -> None:
    rig = await make(strategy=strategy)
    first = await rig.sign()
    await rig.drain(rig.worker())
    before = await written(rig, first.item_id)
    second = await amend(rig, post_discogram_ct="Grade 5 fissure on review (corrected)")
    await rig.drain(rig.worker())
    item = await rig.item(second)
    assert item.state is ItemState.WRITTEN, item.last_error
    after = await written(rig, second)
    key = first.study_key
    report = after[token(key, "report")]
    assert report["id"] == before[token(key, "report")]["id"]  # the same report, version 2
    assert (report["status"], report["meta"]["versionId"]) == ("amended", "2")
    assert token(key, "level.L4-L5") not in after  # unchanged levels are left alone
    new_note = after[token(key, "document.v2")]
    old_note = after[token(key, "document")]
    assert new_note["relatesTo"] == [
        {"code": "replaces", "target": {"reference": f"DocumentReference/{old_note['id']}"}}
    ]
    assert (new_note["docStatus"], old_note["status"]) == ("amended", "superseded")
    provenance = after[token(key, "provenance.v2")]
    assert provenance["activity"]["coding"][0]["code"] == "UPDATE"
    counts = await rig.our_resources()
    assert all(n == 1 for n in counts.values())
    history = await rig.store.history(rig.owner.iss, PATIENT, key)
    assert [(h.version, h.item.state) for h in history] == [
        (1, ItemState.WRITTEN),
        (2, ItemState.WRITTEN),
    ]
    assert history[0].content_hash != history[1].content_hash
    roles = {w.role for w in history[1].written}
    assert roles >= {"diagnostic report", "clinical note", "previous note superseded", "provenance"}


async def edit_in_the_ehr(rig: WriteBackRig, resource: dict[str, object]) -> None:
    """Someone changes a resource in the chart, outside the app."""
    edit = rig.ehr.issue_access_token("discogram-app", "user/*.cruds", patient=PATIENT).token
    async with httpx.AsyncClient(
        transport=rig.transport.inner, base_url="http://127.0.0.1:8000"
    ) as http:
        response = await http.put(
            f"/fhir/{resource['resourceType']}/{resource['id']}",
            json=resource,
            headers={"Authorization": f"Bearer {edit}"},
        )
    assert response.status_code == 200


async def conclusion_edited(rig: WriteBackRig, report: dict[str, Any]) -> None:
    report["conclusion"] = "Edited in the EHR by someone else"


async def addendum_added(rig: WriteBackRig, report: dict[str, Any]) -> None:
    # An element the app never writes: still the chart's, still not to be overwritten.
    report["extension"] = [
        {"url": "http://ehr.example/addendum", "valueString": "Annular fissure also at L3-L4"}
    ]


async def performer_re_pointed(rig: WriteBackRig, report: dict[str, Any]) -> None:
    # Only a reference changes; the display text stays the same.
    ours = report["performer"][0]["reference"]
    other = next(p for p in await rig.chart("Practitioner") if f"Practitioner/{p['id']}" != ours)
    report["performer"] = [{**report["performer"][0], "reference": f"Practitioner/{other['id']}"}]


@pytest.mark.parametrize("edit", [conclusion_edited, addendum_added, performer_re_pointed])
@pytest.mark.parametrize(
    ("strategy", "versions"), [("per-resource", True), ("full", False), ("per-resource", False)]
)
async def test_a_change_made_in_the_ehr_meanwhile_is_not_overwritten(
    make: RigFactory,
    strategy: str,
    versions: bool,
    edit: Callable[[WriteBackRig, dict[str, Any]], Awaitable[None]],
) -> None:
    # With versions, If-Match refuses the update; without (some EHRs report none), the app
    # reads the resource first and finds it is no longer exactly what the app sent.
    rig = await make(strategy=strategy)
    rig.behave(strategy, versions=versions)
    first = await rig.sign()
    await rig.drain(rig.worker())
    (report,) = await rig.chart("DiagnosticReport", identifier=token(first.study_key, "report"))
    assert ("versionId" in report["meta"]) is versions
    await edit(rig, report)
    await edit_in_the_ehr(rig, report)
    second = await amend(rig, post_discogram_ct="Corrected")
    await rig.drain(rig.worker())
    item = await rig.item(second)
    assert item.state is ItemState.FAILED
    assert item.last_error is not None and "was changed in the EHR since" in item.last_error
    (kept,) = await rig.chart("DiagnosticReport", identifier=token(first.study_key, "report"))
    assert {k: v for k, v in kept.items() if k != "meta"} == {
        k: v for k, v in report.items() if k != "meta"
    }


async def test_a_document_amendment_replaces_the_note(make: RigFactory) -> None:
    rig = await make(strategy="document")
    first = await rig.sign()
    await rig.drain(rig.worker())
    second = await amend(rig, post_discogram_ct="Corrected")
    await rig.drain(rig.worker())
    after = await written(rig, second)
    notes = await rig.chart(
        "DocumentReference", patient=PATIENT, identifier=f"{IDENTIFIER_SYSTEM}|"
    )
    assert len(notes) == 2
    assert after[token(first.study_key, "document")]["status"] == "superseded"
    assert after[token(first.study_key, "document.v2")]["status"] == "current"


async def test_a_note_without_a_visit_fails_with_what_to_do(make: RigFactory) -> None:
    rig = await make(strategy="document")
    signed = await rig.sign(encounter=None)
    await rig.drain(rig.worker())
    item = await rig.item(signed.item_id)
    assert item.state is ItemState.FAILED
    assert item.last_error is not None and "add the encounter" in item.last_error
    assert await rig.our_resources() == {}


# -- an EHR that reports no resource versions (no ETag, no meta.versionId) ------------------


@pytest.mark.parametrize("strategy", ["full", "per-resource"])
async def test_without_versions_an_unchanged_chart_is_amended_and_the_page_says_how(
    make: RigFactory, strategy: str
) -> None:
    rig = await make(strategy=strategy)
    rig.behave(strategy, versions=False)
    first = await rig.sign()
    await rig.drain(rig.worker())
    second = await amend(rig, post_discogram_ct="Grade 5 fissure on review (corrected)")
    await rig.drain(rig.worker())
    item = await rig.item(second)
    assert item.state is ItemState.WRITTEN, item.last_error
    (report,) = await rig.chart("DiagnosticReport", identifier=token(first.study_key, "report"))
    assert report["status"] == "amended"
    assert any("reports no resource versions" in note for note in item.notes)
    counts = await rig.our_resources()
    assert all(n == 1 for n in counts.values())


async def test_without_versions_an_update_whose_answer_was_lost_is_not_taken_for_a_change(
    make: RigFactory,
) -> None:
    # The EHR applied the update, the answer never came: on the retry the read finds the
    # chart already holding what the app sent — written, not "changed in the EHR".
    rig = await make(strategy="per-resource")
    rig.behave("per-resource", versions=False)
    first = await rig.sign()
    await rig.drain(rig.worker())
    lost = [0]

    def decide(request: httpx.Request) -> Break | None:
        if request.method != "PUT" or "/fhir/DiagnosticReport/" not in request.url.path:
            return None
        lost[0] += 1
        return Break.TIMEOUT_AFTER if lost[0] == 1 else None

    rig.transport.decide = decide
    second = await amend(rig, post_discogram_ct="Grade 5 fissure on review (corrected)")
    await rig.drain(rig.worker())
    item = await rig.item(second)
    assert lost[0] == 1  # sent once: the retry found it applied
    assert item.state is ItemState.WRITTEN, item.last_error
    (report,) = await rig.chart("DiagnosticReport", identifier=token(first.study_key, "report"))
    assert report["status"] == "amended"


async def test_a_transaction_refused_412_names_the_resource_changed_in_the_ehr(
    make: RigFactory,
) -> None:
    # The EHR refuses the whole transaction; the app reads the targets back to say which.
    rig = await make(strategy="full")
    first = await rig.sign()
    await rig.drain(rig.worker())
    (report,) = await rig.chart("DiagnosticReport", identifier=token(first.study_key, "report"))
    await conclusion_edited(rig, report)
    await edit_in_the_ehr(rig, report)
    second = await amend(rig, post_discogram_ct="Corrected")
    await rig.drain(rig.worker())
    item = await rig.item(second)
    assert item.state is ItemState.FAILED and not item.in_doubt
    assert item.last_error is not None
    assert item.last_error.startswith(
        "The DiagnosticReport of this study was changed in the EHR since this report last "
        "wrote it; the app did not overwrite that change."
    )
    assert "Bundle" not in item.last_error


async def test_an_amendment_stops_before_its_first_write_when_a_target_changed(
    make: RigFactory,
) -> None:
    # A level result comes before the report in the plan: updating it and then finding the
    # report changed would leave an amended level under an unamended report.
    rig = await make(strategy="per-resource")
    first = await rig.sign()
    await rig.drain(rig.worker())
    (report,) = await rig.chart("DiagnosticReport", identifier=token(first.study_key, "report"))
    await addendum_added(rig, report)
    await edit_in_the_ehr(rig, report)
    levels = lumbar_study()["levels"]
    levels[2]["pain_intensity"] = 6
    second = await amend(rig, levels=levels)
    await rig.drain(rig.worker())
    item = await rig.item(second)
    assert item.state is ItemState.FAILED
    assert item.last_error is not None
    assert item.last_error.startswith("The DiagnosticReport of this study was changed")
    (level,) = await rig.chart("Observation", identifier=token(first.study_key, "level.L5-S1"))
    assert (level["status"], level["meta"]["versionId"]) == ("final", "1")
    notes = await rig.chart("DocumentReference", patient=PATIENT)
    assert [n["status"] for n in notes] == ["current"]
    assert {e.state.value for e in (await rig.store.ledger_entries(second)).values()} <= {
        "intended"
    }


async def test_a_change_seen_only_at_write_time_still_stops_the_amendment(
    make: RigFactory,
) -> None:
    # The check before the first write passed; the report's version moved before its PUT.
    rig = await make(strategy="per-resource")
    first = await rig.sign()
    await rig.drain(rig.worker())

    def report_moved(request: SandboxRequest) -> Fault | None:
        if request.method == "PUT" and request.resource_type == "DiagnosticReport":
            return Fault(respond=CannedResponse(status=412))
        return None

    rig.hooks.append(report_moved)
    second = await amend(rig, post_discogram_ct="Corrected")
    await rig.drain(rig.worker())
    item = await rig.item(second)
    assert item.state is ItemState.FAILED
    assert item.last_error is not None
    assert item.last_error.startswith("The DiagnosticReport of this study was changed")
    (report,) = await rig.chart("DiagnosticReport", identifier=token(first.study_key, "report"))
    assert report["meta"]["versionId"] == "1"
