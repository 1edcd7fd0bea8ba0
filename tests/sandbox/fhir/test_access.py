"""Bearer tokens and SMART scopes on the FHIR server."""

from datetime import timedelta
from typing import Any

import pytest

from tests.sandbox.conftest import Sandbox

P = "lumbar-candidate"


def pain(patient: str = P) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "Pain"},
        "subject": {"reference": f"Patient/{patient}"},
    }


async def test_expired_and_revoked_tokens_are_401(sandbox: Sandbox) -> None:
    expired = sandbox.ehr.issue_access_token(
        "public-app", "patient/*.rs", patient=P, lifetime=timedelta(seconds=30)
    ).token
    revoked = sandbox.token("patient/*.rs")
    sandbox.ehr.records.revoke_access_token(revoked)
    now = sandbox.ehr.now()
    sandbox.ehr.clock = lambda: now + timedelta(seconds=31)
    for token in (expired, revoked, "made-up"):
        response = await sandbox.http.get(
            f"/fhir/Patient/{P}", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_patient_scopes_stop_at_the_launch_patient(sandbox: Sandbox) -> None:
    auth = sandbox.auth("patient/*.rs")
    assert (await sandbox.http.get(f"/fhir/Patient/{P}", headers=auth)).status_code == 200
    other = await sandbox.http.get("/fhir/Patient/pregnant", headers=auth)
    assert other.status_code == 403
    assert other.json()["issue"][0]["code"] == "forbidden"
    lab = await sandbox.http.get("/fhir/Observation/pregnant-lab-01", headers=auth)
    assert lab.status_code == 403
    search_other = await sandbox.http.get(
        "/fhir/Observation", params={"patient": "pregnant"}, headers=auth
    )
    assert search_other.status_code == 403


async def test_a_search_without_patient_stays_in_the_compartment(sandbox: Sandbox) -> None:
    response = await sandbox.http.get(
        "/fhir/Observation", params={"code": "72514-3"}, headers=sandbox.auth("patient/*.rs")
    )
    subjects = {e["resource"]["subject"]["reference"] for e in response.json()["entry"]}
    assert subjects == {f"Patient/{P}"}


async def test_user_scopes_reach_every_patient(sandbox: Sandbox) -> None:
    auth = sandbox.auth("user/Observation.rs", patient=None)
    response = await sandbox.http.get("/fhir/Observation", params={"code": "72514-3"}, headers=auth)
    subjects = {e["resource"]["subject"]["reference"] for e in response.json()["entry"]}
    assert len(subjects) == 9


async def test_a_scope_for_one_type_does_not_open_another(sandbox: Sandbox) -> None:
    auth = sandbox.auth("patient/Observation.rs")
    assert (await sandbox.http.get(f"/fhir/Condition?patient={P}", headers=auth)).status_code == 403
    assert (
        await sandbox.http.get(f"/fhir/Observation?patient={P}", headers=auth)
    ).status_code == 200


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("patient/Observation.rs", 403),  # read is not create
        ("patient/Observation.c", 201),  # SMART v2 create
        ("patient/Observation.write", 201),  # SMART v1 write
        ("patient/*.cruds", 201),
        ("patient/Condition.c", 403),
        ("patient/Observation.cr", 201),
        ("patient/Observation.rc", 403),  # letters out of order grant nothing
    ],
)
async def test_create_needs_a_create_scope_on_the_type(
    sandbox: Sandbox, scope: str, expected: int
) -> None:
    response = await sandbox.http.post(
        "/fhir/Observation", json=pain(), headers=sandbox.auth(scope)
    )
    assert response.status_code == expected


async def test_a_patient_scope_cannot_write_into_another_chart(sandbox: Sandbox) -> None:
    response = await sandbox.http.post(
        "/fhir/Observation", json=pain("pregnant"), headers=sandbox.auth("patient/Observation.c")
    )
    assert response.status_code == 403


async def test_granular_scopes_limit_by_their_query(sandbox: Sandbox) -> None:
    auth = sandbox.auth("patient/Observation.rs?category=laboratory")
    labs = await sandbox.http.get(f"/fhir/Observation?patient={P}", headers=auth)
    categories = {e["resource"]["category"][0]["coding"][0]["code"] for e in labs.json()["entry"]}
    assert categories == {"laboratory"}
    pain_score = await sandbox.http.get(f"/fhir/Observation/{P}-pain-01", headers=auth)
    assert pain_score.status_code == 403


async def test_the_user_reads_their_own_practitioner_with_fhir_user(sandbox: Sandbox) -> None:
    with_identity = sandbox.auth("openid fhirUser patient/Observation.rs")
    without = sandbox.auth("patient/Observation.rs")
    me = "/fhir/Practitioner/spine-proceduralist"
    assert (await sandbox.http.get(me, headers=with_identity)).status_code == 200
    assert (await sandbox.http.get(me, headers=without)).status_code == 403
    colleague = await sandbox.http.get("/fhir/Practitioner/radiologist", headers=with_identity)
    assert colleague.status_code == 403


async def test_patient_scopes_reach_resources_outside_any_compartment(sandbox: Sandbox) -> None:
    auth = sandbox.auth("patient/Practitioner.rs")
    assert (
        await sandbox.http.get("/fhir/Practitioner/radiologist", headers=auth)
    ).status_code == 200


async def test_a_token_without_a_patient_gets_nothing_from_patient_scopes(sandbox: Sandbox) -> None:
    auth = sandbox.auth("patient/*.rs", patient=None)
    assert (await sandbox.http.get(f"/fhir/Patient/{P}", headers=auth)).status_code == 403
