"""Write plans: steps, lookups, reference rewrites, deferred references, amendments."""

from __future__ import annotations

from typing import Any

import pytest

from plugin.conformance.validator import Severity, validate_resource
from plugin.errors import InputProblemError
from plugin.fhir_mapping.identifiers import IDENTIFIER_SYSTEM
from plugin.writeback import (
    KnownResource,
    LookupMethod,
    StepAction,
    StepRole,
    StrategyDecision,
    WritePlan,
    WriteStep,
    build_plan,
    choose_strategy,
)
from plugin.writeback.plan import full_url_of
from plugin.writeback.references import placeholders_in
from plugin.writeback.transaction import transaction_bundle
from tests.writeback.capabilities import access, statement
from tests.writeback.studies import frozen, frozen_lumbar, lumbar_study

KEY = "study-1"


def token(suffix: str) -> str:
    return f"{IDENTIFIER_SYSTEM}|{KEY}.{suffix}"


def short(plan: WritePlan) -> list[tuple[str, str]]:
    return [(s.key.removeprefix(f"{IDENTIFIER_SYSTEM}|{KEY}."), s.action.value) for s in plan.steps]


FULL = choose_strategy(statement(), access())
PER_RESOURCE = choose_strategy(statement(transaction=False), access())
PER_RESOURCE_NO_UPDATES = choose_strategy(statement(transaction=False, updatable=[]), access())
EPIC = choose_strategy(
    statement(transaction=False, creatable=["DocumentReference"], conditional=[]), access()
)


def test_the_full_plan_is_the_frozen_transaction() -> None:
    report = frozen_lumbar()
    plan = build_plan(report, FULL, version=1)
    assert plan.transaction and plan.content_hash == report.content_hash
    assert [s.token for s in plan.steps] == [e.token for e in report.entries()]
    for step, entry in zip(plan.steps, report.entries(), strict=True):
        assert step.body == dict(entry.resource)
        assert step.conditional and step.retry_safe
        assert step.rewrites == () and step.deferred == ()  # the server resolves urn:uuid
    assert plan.steps[-1].if_none_exist == f"_tag={token('provenance')}"


def test_per_resource_rewrites_references_to_earlier_steps() -> None:
    plan = build_plan(frozen_lumbar(), PER_RESOURCE, version=1)
    assert short(plan) == [
        ("procedure", "create"),
        ("level.L3-L4", "create"),
        ("level.L4-L5", "create"),
        ("level.L5-S1", "create"),
        ("report", "create"),
        ("procedure#links", "update"),
        ("document", "create"),
        ("provenance", "create"),
    ]
    level = plan.step(token("level.L4-L5"))
    assert [(r.placeholder, r.target) for r in level.rewrites] == [
        (full_url_of(token("procedure")), token("procedure"))
    ]
    report = plan.step(token("report"))
    assert {r.target for r in report.rewrites} == {
        token(f"level.{name}") for name in ("L3-L4", "L4-L5", "L5-S1")
    }
    provenance = plan.step(token("provenance"))
    assert len(provenance.rewrites) == 6  # every resource of the report, all earlier


def test_a_forward_reference_is_left_out_and_added_once_its_target_exists() -> None:
    plan = build_plan(frozen_lumbar(), PER_RESOURCE, version=1)
    procedure = plan.step(token("procedure"))
    assert procedure.deferred == (full_url_of(token("report")),)
    link = plan.step(token("procedure") + "#links")
    assert link.role is StepRole.LINK and link.token == token("procedure")
    assert link.if_match is None  # the version the create recorded is used
    assert {r.target for r in link.rewrites} == {token("report")}
    assert link.body == procedure.body  # the whole resource, with its report reference


def test_without_updates_the_forward_reference_is_simply_left_out() -> None:
    plan = build_plan(frozen_lumbar(), PER_RESOURCE_NO_UPDATES, version=1)
    assert all(s.role is not StepRole.LINK for s in plan.steps)
    assert plan.step(token("procedure")).deferred == (full_url_of(token("report")),)


def test_the_document_plan_is_one_note_in_text() -> None:
    plan = build_plan(frozen_lumbar(), EPIC, version=1)
    (note,) = plan.steps
    assert note.resource_type == "DocumentReference" and note.action is StepAction.CREATE
    assert note.lookup is LookupMethod.IDENTIFIER_SEARCH and not note.conditional
    assert [c["attachment"]["contentType"] for c in note.body["content"]] == [
        "text/plain; charset=utf-8"
    ]
    assert (note.body["status"], note.body["docStatus"]) == ("current", "final")
    assert note.body["context"]["encounter"] == [{"reference": "Encounter/lumbar-candidate-enc-02"}]
    # The diagnostic report is not written: the note's link to it is left out.
    assert note.deferred == (full_url_of(token("report")),)
    assert "filed as a clinical note" in plan.explanation


def test_a_note_without_a_visit_is_refused_with_the_way_out() -> None:
    report = frozen(lumbar_study(encounter=None))
    with pytest.raises(InputProblemError) as refused:
        build_plan(report, EPIC, version=1)
    (problem,) = refused.value.problems
    assert (problem.field, problem.rule) == ("encounter", "required-for-clinical-note")
    assert "add the encounter of the procedure" in problem.message
    assert build_plan(report, PER_RESOURCE, version=1).steps  # the full report needs none


def test_the_note_carries_a_pdf_where_the_ehr_accepts_one() -> None:
    plan = build_plan(
        frozen_lumbar(), EPIC, version=1, document_content_types=frozenset({"application/pdf"})
    )
    assert [c["attachment"]["contentType"] for c in plan.steps[0].body["content"]] == [
        "application/pdf",
        "text/plain; charset=utf-8",
    ]


def test_a_plan_survives_its_json_round_trip() -> None:
    plan = build_plan(frozen_lumbar(), PER_RESOURCE, version=1)
    assert WritePlan.model_validate_json(plan.model_dump_json()) == plan


def known_from(plan: WritePlan, version: str = "1") -> dict[str, KnownResource]:
    """What a written plan left in the chart (ids made up from the keys)."""
    return {
        s.token: KnownResource(
            s.token, s.resource_type, f"id-{s.token.rsplit('.', 1)[-1]}", version, s.body
        )
        for s in plan.steps
        if s.action is StepAction.CREATE
    }


def amended_study(**changes: Any) -> dict[str, Any]:
    study = lumbar_study(KEY)
    study.update(changes)
    return study


def amend(decision: StrategyDecision) -> tuple[WritePlan, WritePlan]:
    """Version 1 of the lumbar study, then version 2 with one level corrected and one removed."""
    first = build_plan(frozen_lumbar(), decision, version=1)
    study = amended_study()
    study["levels"][1]["pain_location"] = "Central low back — corrected «note»"
    study["levels"] = study["levels"][:2]  # L5-S1 removed: it was recorded in error
    second = build_plan(frozen(study), decision, version=2, previous=known_from(first))
    return first, second


@pytest.fixture(scope="module")
def amendment() -> tuple[WritePlan, WritePlan]:
    return amend(PER_RESOURCE)


def test_an_amendment_updates_what_changed_with_if_match(
    amendment: tuple[WritePlan, WritePlan],
) -> None:
    _, plan = amendment
    changed = plan.step(token("level.L4-L5"))
    assert changed.action is StepAction.UPDATE and changed.if_match == "1"
    assert changed.body["status"] == "amended" and changed.body["id"] == "id-L4-L5"
    report = plan.step(token("report"))
    assert report.action is StepAction.UPDATE and report.body["status"] == "amended"
    keys = [s.key for s in plan.steps]
    assert token("level.L3-L4") not in keys  # unchanged: left as it is
    # The procedure lost a disc (bodySite): updated, its status as it was (R4 has no amended).
    procedure = plan.step(token("procedure"))
    assert procedure.action is StepAction.UPDATE and procedure.body["status"] == "completed"
    assert len(procedure.body["bodySite"]) == 2
    # References to resources already in the chart are rewritten to their ids.
    assert any(r.target == token("level.L3-L4") for r in report.rewrites)
    assert plan.known[token("level.L3-L4")].id == "id-L3-L4"


def test_an_amendment_withdraws_a_level_no_longer_in_the_report(
    amendment: tuple[WritePlan, WritePlan],
) -> None:
    _, plan = amendment
    withdrawn = plan.step(token("level.L5-S1"))
    assert withdrawn.role is StepRole.RETRACT and withdrawn.action is StepAction.UPDATE
    assert withdrawn.body["status"] == "entered-in-error"


def test_an_amendment_files_a_new_note_replacing_the_old_one(
    amendment: tuple[WritePlan, WritePlan],
) -> None:
    _, plan = amendment
    note = plan.step(token("document.v2"))
    assert note.action is StepAction.CREATE
    assert note.body["identifier"] == [{"system": IDENTIFIER_SYSTEM, "value": f"{KEY}.document.v2"}]
    assert note.body["docStatus"] == "amended"
    assert note.body["relatesTo"] == [
        {"code": "replaces", "target": {"reference": "DocumentReference/id-document"}}
    ]
    old = plan.step(token("document"))
    assert old.role is StepRole.SUPERSEDE and old.body["status"] == "superseded"
    assert old.if_match == "1"
    provenance = plan.step(token("provenance.v2"))
    assert provenance.body["activity"]["coding"][0]["code"] == "UPDATE"
    assert provenance.if_none_exist == f"_tag={token('provenance.v2')}"
    order = [s.key for s in plan.steps]
    assert order.index(note.key) < order.index(old.key) < order.index(provenance.key)


def test_an_amendment_where_nothing_may_be_updated_says_so() -> None:
    first = build_plan(frozen_lumbar(), PER_RESOURCE_NO_UPDATES, version=1)
    study = amended_study(post_discogram_ct="Corrected CT description")
    plan = build_plan(frozen(study), PER_RESOURCE_NO_UPDATES, version=2, previous=known_from(first))
    assert [s.key for s in plan.steps] == [token("document.v2"), token("provenance.v2")]
    assert any("does not let the app update DiagnosticReport" in n for n in plan.notes)
    assert any("stays 'current'" in n for n in plan.notes)


def test_an_amendment_explains_what_it_changes_not_what_a_first_version_files(
    amendment: tuple[WritePlan, WritePlan],
) -> None:
    first, plan = amendment
    assert "procedure, level results, diagnostic report" in first.explanation
    assert plan.explanation.endswith(
        "This amendment is filed resource by resource, each checked against the chart first: "
        "a new clinical note for this version, the previous note marked superseded, the "
        "procedure updated, 1 level result updated (status amended), 1 level result withdrawn "
        "(entered-in-error), the diagnostic report updated (status amended), its provenance."
    )


def test_an_amendment_that_may_not_update_does_not_claim_it_did() -> None:
    first = build_plan(frozen_lumbar(), PER_RESOURCE_NO_UPDATES, version=1)
    study = amended_study(post_discogram_ct="Corrected CT description")
    plan = build_plan(frozen(study), PER_RESOURCE_NO_UPDATES, version=2, previous=known_from(first))
    assert plan.explanation.endswith(": a new clinical note for this version, its provenance.")
    for claim in ("procedure", "level result", "diagnostic report", "superseded"):
        assert claim not in plan.explanation


def test_a_document_amendment_replaces_the_previous_note() -> None:
    first = build_plan(frozen_lumbar(), EPIC, version=1)
    plan = build_plan(
        frozen(amended_study(post_discogram_ct="Corrected")),
        EPIC,
        version=2,
        previous=known_from(first),
    )
    assert [s.key for s in plan.steps] == [token("document.v2"), token("document")]
    assert plan.steps[0].body["relatesTo"][0]["target"]["reference"] == (
        "DocumentReference/id-document"
    )


def test_placeholders_of_every_step_are_known_to_the_plan() -> None:
    plan = build_plan(frozen_lumbar(), PER_RESOURCE, version=1)
    named = plan.placeholders
    for step in plan.steps:
        for placeholder in placeholders_in(step.body):
            assert placeholder in named


def sent_transaction(plan: WritePlan) -> dict[str, Any]:
    """The transaction Bundle the outbox sends for `plan` (references to resources already in
    the chart resolved from `plan.known`)."""
    resolved = {
        placeholder: plan.known[token].reference
        for placeholder, token in plan.placeholders.items()
        if token in plan.known
    }

    def target(step: WriteStep) -> tuple[str, str | None]:
        known = plan.known[step.token]
        return known.id, known.version

    return transaction_bundle(plan.steps, resolved, target)


def test_an_amendment_conforms_to_the_products_profiles() -> None:
    _, plan = amend(FULL)
    bundle = sent_transaction(plan)
    statuses = {
        (e["resource"]["resourceType"], e["resource"].get("status"), e["resource"].get("docStatus"))
        for e in bundle["entry"]
    }
    assert {
        ("Observation", "amended", None),
        ("Observation", "entered-in-error", None),
        ("DiagnosticReport", "amended", None),
        ("DocumentReference", "current", "amended"),
        ("DocumentReference", "superseded", "final"),
    } <= statuses
    issues = validate_resource(bundle)
    assert [str(i) for i in issues if i.severity is Severity.ERROR] == []


def test_the_provenance_of_an_amendment_names_what_it_wrote() -> None:
    first, plan = amend(FULL)
    provenance = plan.step(token("provenance.v2"))
    assert [t["reference"] for t in provenance.body["target"]] == [
        "Procedure/id-procedure",
        "Observation/id-L4-L5",
        "DiagnosticReport/id-report",
        plan.step(token("document.v2")).full_url,  # the new note, created in the transaction
        "DocumentReference/id-document",  # superseded
        "Observation/id-L5-S1",  # withdrawn
    ]  # not L3-L4: unchanged, not written
    assert provenance.body["activity"]["coding"][0]["code"] == "UPDATE"
    # The first version's Provenance names every resource it created, as mapped.
    assert len(first.step(token("provenance")).body["target"]) == 6


def test_an_amendment_that_only_creates_is_a_create() -> None:
    first = build_plan(frozen_lumbar(), PER_RESOURCE_NO_UPDATES, version=1)
    study = amended_study(post_discogram_ct="Corrected CT description")
    plan = build_plan(frozen(study), PER_RESOURCE_NO_UPDATES, version=2, previous=known_from(first))
    provenance = plan.step(token("provenance.v2"))
    assert provenance.body["target"] == [{"reference": plan.step(token("document.v2")).full_url}]
    assert provenance.body["activity"]["coding"][0]["code"] == "CREATE"
