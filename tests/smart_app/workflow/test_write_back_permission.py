"""Signing is offered only when the granted scopes let the report be written."""

from pydantic import SecretStr

from smart_app.scopes import LaunchKind
from smart_app.session import SmartSession
from smart_app.workflow.write_back_permission import write_permission


def session(scope: str) -> SmartSession:
    return SmartSession(
        iss="https://ehr.example.org/fhir",
        ehr_name="EHR",
        launch_kind=LaunchKind.EHR,
        patient="p1",
        granted_scope=scope,
        access_token=SecretStr("a"),
        csrf_token=SecretStr("c"),
    )


def test_without_document_create_signing_is_refused_with_the_reason() -> None:
    permission = write_permission(session("launch patient/*.rs patient/Observation.c"))
    assert not permission.allowed
    assert permission.reasons == (
        "The EHR did not grant permission to create DocumentReference, so the report cannot "
        "be written back.",
    )


def test_document_only_is_allowed_and_says_what_is_left_out() -> None:
    permission = write_permission(session("launch patient/*.rs patient/DocumentReference.c"))
    assert permission.allowed
    assert any("create Procedure" in r for r in permission.reasons)
    full = write_permission(session("launch patient/*.rs patient/*.c"))
    assert full.allowed and full.reasons == ()
