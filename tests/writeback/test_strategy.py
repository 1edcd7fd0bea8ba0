"""Choosing full / per-resource / document from capabilities, registration and grants."""

from __future__ import annotations

import pytest

from plugin.errors import InputProblemError
from plugin.writeback import LookupMethod, WriteAccess, WriteStrategy, choose_strategy
from smart_app.capabilities import ServerCapabilities
from smart_app.outbox.connector import write_access
from smart_app.scopes import GrantedAccess
from tests.writeback.capabilities import ALL, access, statement

STRUCTURED = ("Procedure", "Observation", "DiagnosticReport", "DocumentReference")


def test_full_when_the_server_takes_transactions_and_every_create() -> None:
    decision = choose_strategy(statement(), access())
    assert decision.strategy is WriteStrategy.FULL
    assert decision.reasons == ()
    assert all(decision.lookup(t) is LookupMethod.CONDITIONAL_CREATE for t in ALL)
    assert decision.include_provenance
    assert decision.explanation.startswith("The report is filed in one FHIR transaction")


def test_per_resource_when_transactions_are_off() -> None:
    decision = choose_strategy(statement(transaction=False), access())
    assert decision.strategy is WriteStrategy.PER_RESOURCE
    assert decision.reasons == ("This EHR does not accept FHIR transactions",)
    assert "resource by resource" in decision.explanation


def test_epic_like_server_gets_a_clinical_note_with_the_reason() -> None:
    epic = statement(
        transaction=False, creatable=["DocumentReference", "Observation"], conditional=[]
    )
    decision = choose_strategy(epic, access())
    assert decision.strategy is WriteStrategy.DOCUMENT
    assert "This EHR does not accept DiagnosticReport" in decision.reasons
    assert decision.explanation.startswith(
        "This EHR does not accept FHIR transactions. This EHR does not accept Procedure."
    )
    assert "filed as a clinical note" in decision.explanation
    # No conditional create: the note is looked up by its identifier before it is created.
    assert decision.lookup("DocumentReference") is LookupMethod.IDENTIFIER_SEARCH
    assert not decision.include_provenance


def test_a_search_on_a_server_that_lists_no_identifier_parameter_is_not_trusted() -> None:
    server = statement(
        transaction=False,
        conditional=[],
        params={t: ["patient"] for t in ALL},
    )
    decision = choose_strategy(server, access())
    assert decision.strategy is WriteStrategy.DOCUMENT
    assert decision.lookup("DocumentReference") is LookupMethod.NONE
    assert any("no way to find a Procedure" in r for r in decision.reasons)
    assert any("check the chart before sending it again" in n for n in decision.notes)


def test_a_server_listing_no_parameters_at_all_is_assumed_to_search_identifiers() -> None:
    decision = choose_strategy(statement(conditional=[], params={t: [] for t in ALL}), access())
    assert decision.strategy is WriteStrategy.FULL
    assert decision.lookup("Observation") is LookupMethod.IDENTIFIER_SEARCH


def test_conditional_create_is_only_relied_on_with_search_access() -> None:
    # A server may match If-None-Exist only against what the token may see.
    decision = choose_strategy(
        statement(transaction=False), access(search=[t for t in ALL if t != "Provenance"])
    )
    assert decision.strategy is WriteStrategy.PER_RESOURCE
    assert decision.lookup("Provenance") is LookupMethod.NONE
    assert not decision.include_provenance
    assert decision.notes == (
        "No Provenance is written: the access granted at sign-in does not allow searching "
        "Provenance, so the app could not check for a copy already filed",
    )


def test_the_grant_limits_what_a_server_allows() -> None:
    decision = choose_strategy(statement(), access(create=["DocumentReference"]))
    assert decision.strategy is WriteStrategy.DOCUMENT
    assert (
        "The access granted at sign-in does not allow creating DiagnosticReport" in decision.reasons
    )


def test_nothing_possible_is_said_plainly() -> None:
    decision = choose_strategy(statement(creatable=[]), access())
    assert decision.strategy is None and not decision.available
    assert "This EHR does not accept DocumentReference" in decision.reasons
    assert decision.explanation.endswith("The report cannot be written to this EHR.")


def test_a_statement_listing_no_resources_gets_the_universal_path() -> None:
    unknown = ServerCapabilities.from_statement({"resourceType": "CapabilityStatement"})
    decision = choose_strategy(unknown, access())
    assert decision.strategy is WriteStrategy.DOCUMENT
    assert decision.reasons == (
        "The EHR's CapabilityStatement does not say which resources it accepts",
    )
    assert decision.lookup("DocumentReference") is LookupMethod.IDENTIFIER_SEARCH


@pytest.mark.parametrize("mode", ["full", "per-resource", "document"])
def test_a_forced_mode_trusts_the_registration_over_the_statement(mode: str) -> None:
    silent = statement(transaction=False, creatable=[], conditional=[], searchable=[])
    decision = choose_strategy(silent, access(), mode)
    assert decision.strategy is WriteStrategy(mode)
    assert decision.reasons == (f"The registration asks for the {mode} write-back strategy",)
    assert decision.lookup("DocumentReference") is LookupMethod.IDENTIFIER_SEARCH
    assert decision.updatable == frozenset(ALL)


def test_a_forced_mode_never_overrides_the_grant() -> None:
    decision = choose_strategy(statement(), access(create=STRUCTURED), "full")
    assert decision.strategy is None
    assert decision.reasons == ("The access granted at sign-in does not allow creating Provenance",)
    assert "The registration asks for the full write-back strategy" in decision.explanation


def test_an_unknown_mode_is_a_named_problem() -> None:
    with pytest.raises(InputProblemError) as refused:
        choose_strategy(statement(), access(), "fastest")
    assert refused.value.problems[0].field == "write_mode"


def test_updates_need_both_server_and_grant() -> None:
    decision = choose_strategy(
        statement(updatable=["Observation", "DocumentReference"]),
        access(update=["DocumentReference", "Procedure"]),
    )
    assert decision.updatable == frozenset({"DocumentReference"})


def test_access_from_granted_scopes_in_v1_and_v2_spelling() -> None:
    granted = GrantedAccess.parse(
        "patient/Observation.crs patient/DocumentReference.write patient/Procedure.rs"
    )
    assert write_access(granted) == WriteAccess(
        create=frozenset({"Observation", "DocumentReference"}),
        update=frozenset({"DocumentReference"}),
        search=frozenset({"Observation", "Procedure"}),
    )
