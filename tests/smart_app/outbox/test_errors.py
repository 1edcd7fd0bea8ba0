"""What the status page says when a write stops: each resource named by its type and by what
it is to the study, in sentences that read right whatever the step did to it."""

from __future__ import annotations

import pytest

from plugin.writeback import StepAction, StepRole, WriteStep
from plugin.writeback.transaction import EntryRefusal
from smart_app.fhir_errors import OutcomeIssue
from smart_app.outbox.errors import (
    ChangedInChartError,
    TransactionNotConfirmedError,
    study_resource,
)

SYSTEM = "https://discography-plugin.example/fhir/identifier/discography"


def step(resource_type: str, role: StepRole, action: StepAction = StepAction.UPDATE) -> WriteStep:
    return WriteStep(
        key=f"{SYSTEM}|s.{resource_type}.{role.name}",
        token=f"{SYSTEM}|s.{resource_type}",
        resource_type=resource_type,
        role=role,
        action=action,
        body={"resourceType": resource_type},
    )


@pytest.mark.parametrize(
    ("resource_type", "role", "named"),
    [
        ("Procedure", StepRole.LINK, "the Procedure of this study"),
        ("Procedure", StepRole.PROCEDURE, "the Procedure of this study"),
        ("Observation", StepRole.LEVEL, "the Observation holding a level result of this study"),
        ("Observation", StepRole.RETRACT, "the Observation holding a level result of this study"),
        ("DiagnosticReport", StepRole.REPORT, "the DiagnosticReport of this study"),
        (
            "DocumentReference",
            StepRole.SUPERSEDE,
            "the DocumentReference holding this study's previous clinical note",
        ),
    ],
)
def test_a_resource_is_named_by_type_and_what_it_is(
    resource_type: str, role: StepRole, named: str
) -> None:
    assert study_resource(step(resource_type, role)) == named


def test_a_link_update_refused_as_changed_reads_as_a_sentence() -> None:
    error = ChangedInChartError.of([step("Procedure", StepRole.LINK)])
    assert error.message == (
        "The Procedure of this study was changed in the EHR since this report last wrote it; "
        "the app did not overwrite that change. Review it in the chart, then sign the report "
        "again."
    )
    assert "links to later resources" not in error.message


def test_several_changed_resources_are_named_together() -> None:
    error = ChangedInChartError.of(
        [step("DiagnosticReport", StepRole.REPORT), step("Observation", StepRole.LEVEL)]
    )
    assert error.message.startswith(
        "The DiagnosticReport of this study and the Observation holding a level result of this "
        "study were changed in the EHR since this report last wrote them; the app did not "
        "overwrite those changes."
    )


def test_a_412_no_resource_explains_names_the_studys_resources_and_the_ehrs_words() -> None:
    error = ChangedInChartError.somewhere(
        [
            step("Procedure", StepRole.PROCEDURE, StepAction.CREATE),
            step("Observation", StepRole.LEVEL),
        ],
        (OutcomeIssue("error", "conflict", diagnostics="version conflict."),),
    )
    assert error.message.startswith(
        "The EHR refused to apply the report (412 Precondition Failed): one of this study's "
        "resources it writes (Observation) was changed in the EHR"
    )
    assert error.message.endswith("The EHR said: version conflict.")


def test_a_refusal_that_cannot_be_checked_asks_the_user_to_look_in_the_chart() -> None:
    refusal = EntryRefusal(step("Provenance", StepRole.PROVENANCE, StepAction.CREATE), "400", {})
    error = TransactionNotConfirmedError.refused([refusal], in_doubt=True)
    assert error.in_doubt
    assert error.message.startswith(
        "The EHR did not apply the report: it refused the Provenance recording who signed "
        "this study's report with 400 Bad Request."
    )
    assert "check the patient's chart; send the report again only if it is not there" in (
        error.message
    )
