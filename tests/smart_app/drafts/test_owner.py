"""Whose draft it is, and that a session without a known user owns none."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from smart_app.drafts import DraftOwner
from smart_app.errors import UnidentifiedUserError
from smart_app.scopes import LaunchKind
from smart_app.session import SmartSession


def session(fhir_user: str | None) -> SmartSession:
    return SmartSession(
        iss="https://ehr.example.org/fhir/",
        ehr_name="Test EHR",
        launch_kind=LaunchKind.EHR,
        patient="lumbar-candidate",
        granted_scope="launch patient/*.cruds",
        access_token=SecretStr("a"),
        fhir_user=fhir_user,
        csrf_token=SecretStr("c"),
    )


def test_the_owner_is_the_ehr_the_patient_and_the_user() -> None:
    owner = DraftOwner.of_session(session("Practitioner/spine-proceduralist"))
    assert owner == DraftOwner(
        "https://ehr.example.org/fhir", "lumbar-candidate", "Practitioner/spine-proceduralist"
    )
    assert DraftOwner.of_identified_session(session("Practitioner/a")) is not None


@pytest.mark.parametrize("fhir_user", [None, ""])
def test_a_session_without_a_known_user_owns_no_drafts(fhir_user: str | None) -> None:
    # Sessions without fhirUser once all shared one owner: one clinician saw another's drafts.
    with pytest.raises(UnidentifiedUserError) as refused:
        DraftOwner.of_session(session(fhir_user))
    assert refused.value.status_code == 403
    assert "did not tell the app who is signed in" in refused.value.clinician
    assert '"openid fhirUser"' in refused.value.clinician
    assert "no fhirUser" in refused.value.detail
    assert DraftOwner.of_identified_session(session(fhir_user)) is None
