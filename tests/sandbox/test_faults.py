"""The fault-injection hook: canned answers, delays, and "commit, then fail"."""

import time

import pytest

from plugin.sandbox.behaviour import (
    CannedResponse,
    Fault,
    Interaction,
    SandboxBehaviour,
    SandboxRequest,
)
from tests.sandbox.conftest import Sandbox

P = "lumbar-candidate"
OBSERVATION = {
    "resourceType": "Observation",
    "status": "final",
    "code": {"text": "x"},
    "subject": {"reference": f"Patient/{P}"},
    "identifier": [{"system": "urn:faults", "value": "one"}],
}


async def observations(sandbox: Sandbox) -> int:
    response = await sandbox.http.get(
        "/fhir/Observation",
        params={"identifier": "urn:faults|one"},
        headers=sandbox.auth("patient/*.rs"),
    )
    return int(response.json()["total"])


async def test_respond_answers_without_doing_the_work(sandbox: Sandbox) -> None:
    seen: list[SandboxRequest] = []

    def hook(request: SandboxRequest) -> Fault | None:
        seen.append(request)
        if request.interaction is Interaction.CREATE:
            return Fault(respond=CannedResponse(status=503, headers={"Retry-After": "2"}))
        return None

    sandbox.ehr.behaviour = SandboxBehaviour(fault=hook)
    response = await sandbox.http.post(
        "/fhir/Observation", json=OBSERVATION, headers=sandbox.auth("patient/*.cruds")
    )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert await observations(sandbox) == 0
    create = seen[0]
    assert (create.method, create.path, create.resource_type) == (
        "POST",
        "Observation",
        "Observation",
    )
    assert create.body == OBSERVATION
    assert create.headers["content-type"] == "application/json"
    assert "authorization" not in create.headers  # the hook never sees credentials


async def test_after_commit_writes_then_loses_the_answer(sandbox: Sandbox) -> None:
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout"}],
    }
    sandbox.ehr.behaviour = SandboxBehaviour(
        fault=lambda r: (
            Fault(after_commit=CannedResponse(status=504, body=outcome))
            if r.interaction is Interaction.CREATE
            else None
        )
    )
    response = await sandbox.http.post(
        "/fhir/Observation", json=OBSERVATION, headers=sandbox.auth("patient/*.cruds")
    )
    assert response.status_code == 504
    assert response.json() == outcome
    assert await observations(sandbox) == 1  # it was written all the same


async def test_a_delay_happens_before_the_answer(sandbox: Sandbox) -> None:
    sandbox.ehr.behaviour = SandboxBehaviour(fault=lambda r: Fault(delay_seconds=0.05))
    started = time.perf_counter()
    response = await sandbox.http.get("/fhir/metadata")
    assert response.status_code == 200
    assert time.perf_counter() - started >= 0.05


async def test_the_token_endpoint_consults_the_hook_without_credentials(sandbox: Sandbox) -> None:
    seen: list[SandboxRequest] = []

    def hook(request: SandboxRequest) -> Fault | None:
        seen.append(request)
        return Fault(respond=CannedResponse(status=500))

    sandbox.ehr.behaviour = SandboxBehaviour(fault=hook)
    response = await sandbox.http.post(
        "/auth/token", data={"grant_type": "refresh_token", "refresh_token": "secret-value"}
    )
    assert response.status_code == 500
    assert seen[0].interaction is Interaction.TOKEN
    assert seen[0].body == {"grant_type": "refresh_token"}


def test_a_fault_cannot_both_respond_and_commit() -> None:
    with pytest.raises(ValueError, match="not both"):
        Fault(respond=CannedResponse(status=500), after_commit=CannedResponse(status=504))


async def test_transactions_reach_the_hook_with_their_bundle(sandbox: Sandbox) -> None:
    seen: list[SandboxRequest] = []

    def hook(request: SandboxRequest) -> Fault | None:
        seen.append(request)
        return None

    sandbox.ehr.behaviour = SandboxBehaviour(fault=hook)
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": []}
    response = await sandbox.http.post(
        "/fhir", json=bundle, headers=sandbox.auth("patient/*.cruds")
    )
    assert response.status_code == 200
    assert seen[0].interaction is Interaction.TRANSACTION and seen[0].body == bundle


async def test_a_raising_hook_drops_the_request_before_any_write(sandbox: Sandbox) -> None:
    def hook(request: SandboxRequest) -> Fault | None:
        if request.interaction is Interaction.CREATE:
            raise ConnectionResetError("connection dropped")
        return None

    sandbox.ehr.behaviour = SandboxBehaviour(fault=hook)
    with pytest.raises(ConnectionResetError):
        await sandbox.http.post(
            "/fhir/Observation", json=OBSERVATION, headers=sandbox.auth("patient/*.cruds")
        )
    assert await observations(sandbox) == 0
