from pydantic import SecretStr

from smart_app.scopes import LaunchKind
from smart_app.session import SmartSession


def session() -> SmartSession:
    return SmartSession(
        iss="https://ehr/fhir",
        ehr_name="EHR",
        launch_kind=LaunchKind.EHR,
        patient="p1",
        granted_scope="launch patient/*.rs",
        access_token=SecretStr("at-secret"),
        refresh_token=SecretStr("rt-secret"),
        access_expires_at=100.0,
        csrf_token=SecretStr("csrf-secret"),
    )


def test_stored_form_round_trips_with_secrets() -> None:
    state = session().to_state()
    assert state["access_token"] == "at-secret" and state["refresh_token"] == "rt-secret"
    assert SmartSession.from_state(state) == session()


def test_secrets_do_not_print() -> None:
    shown = repr(session())
    assert "at-secret" not in shown and "rt-secret" not in shown and "csrf-secret" not in shown


def test_granted_access_is_parsed_from_the_granted_scope() -> None:
    assert session().granted.can_search("Condition")
    assert not session().granted.can_create("DocumentReference")
