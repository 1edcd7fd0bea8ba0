"""transaction Bundles: all or nothing, urn:uuid references, ifNoneExist, ifMatch."""

from typing import Any

from tests.sandbox.conftest import FHIR, Sandbox

ALL = "patient/*.cruds"
P = "lumbar-candidate"


def entry(resource: dict[str, Any], full_url: str | None = None, **request: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "resource": resource,
        "request": {"method": "POST", "url": resource["resourceType"], **request},
    }
    if full_url:
        item["fullUrl"] = full_url
    return item


def report_bundle(identifier: str = "study-1", status: str = "final") -> dict[str, Any]:
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "Disc level result"},
        "subject": {"reference": f"Patient/{P}"},
        "identifier": [{"system": "urn:study", "value": f"{identifier}-L4-L5"}],
    }
    report = {
        "resourceType": "DiagnosticReport",
        "status": status,
        "code": {"text": "Provocative discography"},
        "subject": {"reference": f"Patient/{P}"},
        "result": [{"reference": "urn:uuid:0d6c1a5e-0000-4000-8000-000000000001"}],
        "identifier": [{"system": "urn:study", "value": identifier}],
    }
    provenance = {
        "resourceType": "Provenance",
        "target": [{"reference": "urn:uuid:0d6c1a5e-0000-4000-8000-000000000002"}],
        "recorded": "2024-05-01T10:00:00Z",
        "agent": [{"who": {"reference": "Practitioner/spine-proceduralist"}}],
    }
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            entry(provenance),
            entry(
                report,
                "urn:uuid:0d6c1a5e-0000-4000-8000-000000000002",
                ifNoneExist=f"identifier=urn:study|{identifier}",
            ),
            entry(observation, "urn:uuid:0d6c1a5e-0000-4000-8000-000000000001"),
        ],
    }


async def count(sandbox: Sandbox, resource_type: str) -> int:
    response = await sandbox.http.get(
        f"/fhir/{resource_type}",
        params={"patient": P, "_summary": "count"},
        headers=sandbox.auth(ALL),
    )
    return int(response.json()["total"])


async def test_a_transaction_creates_everything_and_resolves_references(sandbox: Sandbox) -> None:
    response = await sandbox.http.post("/fhir", json=report_bundle(), headers=sandbox.auth(ALL))
    assert response.status_code == 200, response.text
    bundle = response.json()
    assert bundle["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in bundle["entry"]]
    assert statuses == ["201 Created"] * 3
    provenance, report, observation = (e["resource"] for e in bundle["entry"])
    assert report["result"] == [{"reference": f"Observation/{observation['id']}"}]
    assert provenance["target"] == [{"reference": f"DiagnosticReport/{report['id']}"}]
    location = bundle["entry"][1]["response"]["location"]
    assert location == f"DiagnosticReport/{report['id']}/_history/1"
    assert bundle["entry"][1]["response"]["etag"] == 'W/"1"'
    assert bundle["entry"][1]["fullUrl"] == f"{FHIR}/DiagnosticReport/{report['id']}"
    # The Provenance is in the patient's compartment through its target.
    found = await sandbox.http.get(
        "/fhir/Provenance",
        params={"target": f"DiagnosticReport/{report['id']}"},
        headers=sandbox.auth(ALL),
    )
    assert found.json()["total"] == 1


async def test_one_bad_entry_rolls_back_the_whole_transaction(sandbox: Sandbox) -> None:
    before = (await count(sandbox, "Observation"), await count(sandbox, "DiagnosticReport"))
    bundle = report_bundle()
    bundle["entry"][2]["resource"]["status"] = "not-a-status"
    response = await sandbox.http.post("/fhir", json=bundle, headers=sandbox.auth(ALL))
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["Bundle.entry[2].resource.status"]
    after = (await count(sandbox, "Observation"), await count(sandbox, "DiagnosticReport"))
    assert after == before


async def test_a_failure_while_writing_rolls_back_earlier_writes(sandbox: Sandbox) -> None:
    # The entries are valid FHIR; the last refers to a resource that does not exist, which is
    # found only after the first ones were written inside the SQLite transaction.
    before = await count(sandbox, "DiagnosticReport")
    bundle = report_bundle()
    bundle["entry"][2]["resource"]["encounter"] = {"reference": "Encounter/missing"}
    response = await sandbox.http.post("/fhir", json=bundle, headers=sandbox.auth(ALL))
    assert response.status_code == 422
    assert await count(sandbox, "DiagnosticReport") == before
    provenances = await sandbox.http.get(
        "/fhir/Provenance", params={"patient": P}, headers=sandbox.auth(ALL)
    )
    assert provenances.json()["total"] == 0


async def test_if_none_exist_in_a_transaction_reuses_the_existing_resource(
    sandbox: Sandbox,
) -> None:
    first = (
        await sandbox.http.post("/fhir", json=report_bundle(), headers=sandbox.auth(ALL))
    ).json()
    again = await sandbox.http.post("/fhir", json=report_bundle(), headers=sandbox.auth(ALL))
    entries = again.json()["entry"]
    assert entries[1]["response"]["status"] == "200 OK"
    assert entries[1]["fullUrl"] == first["entry"][1]["fullUrl"]
    # The new Provenance points at the report that already existed.
    report_id = first["entry"][1]["fullUrl"].rsplit("/", 1)[1]
    assert entries[0]["resource"]["target"] == [{"reference": f"DiagnosticReport/{report_id}"}]
    assert await count(sandbox, "DiagnosticReport") == 2  # the synthetic MRI report + ours


async def test_updates_in_a_transaction_check_if_match(sandbox: Sandbox) -> None:
    auth = sandbox.auth(ALL)
    created = (await sandbox.http.post("/fhir", json=report_bundle(), headers=auth)).json()
    report = created["entry"][1]["resource"]
    amended = {**report, "status": "amended"}
    stale: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": amended,
                "request": {
                    "method": "PUT",
                    "url": f"DiagnosticReport/{report['id']}",
                    "ifMatch": 'W/"7"',
                },
            }
        ],
    }
    refused = await sandbox.http.post("/fhir", json=stale, headers=auth)
    assert refused.status_code == 412
    stale["entry"][0]["request"]["ifMatch"] = 'W/"1"'
    accepted = await sandbox.http.post("/fhir", json=stale, headers=auth)
    assert accepted.status_code == 200
    assert accepted.json()["entry"][0]["response"]["etag"] == 'W/"2"'


async def test_transactions_can_be_switched_off_like_epic(make_sandbox: Any) -> None:
    sandbox = await make_sandbox(behaviour={"transactions": False})
    response = await sandbox.http.post("/fhir", json=report_bundle(), headers=sandbox.auth(ALL))
    assert response.status_code == 400
    assert response.json()["issue"][0]["code"] == "not-supported"
    metadata = (await sandbox.http.get("/fhir/metadata")).json()
    assert "interaction" not in metadata["rest"][0]
    assert await count(sandbox, "DiagnosticReport") == 1


async def test_a_refused_type_fails_the_whole_transaction(make_sandbox: Any) -> None:
    sandbox = await make_sandbox(behaviour={"refuse_create": ["DiagnosticReport"]})
    response = await sandbox.http.post("/fhir", json=report_bundle(), headers=sandbox.auth(ALL))
    assert response.status_code == 403
    assert await count(sandbox, "Observation") == 8  # the synthetic labs and pain scores only


async def test_malformed_bundles_name_the_entry(sandbox: Sandbox) -> None:
    auth = sandbox.auth(ALL)
    batch = {"resourceType": "Bundle", "type": "batch", "entry": []}
    assert (await sandbox.http.post("/fhir", json=batch, headers=auth)).status_code == 400
    bad = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": {"resourceType": "Observation"},
                "request": {"method": "DELETE", "url": "Observation/x"},
            },
            {"resource": {"resourceType": "Observation"}},
            {
                "resource": {"resourceType": "Observation"},
                "request": {"method": "POST", "url": "Observation", "ifNoneExist": 42},
            },
        ],
    }
    response = await sandbox.http.post("/fhir", json=bad, headers=auth)
    assert response.status_code == 400
    assert [i["expression"] for i in response.json()["issue"]] == [
        ["Bundle.entry[0].request.method"],
        ["Bundle.entry[1].request"],
        ["Bundle.entry[2].request.ifNoneExist"],
    ]


async def test_transactions_need_create_scopes(sandbox: Sandbox) -> None:
    response = await sandbox.http.post(
        "/fhir", json=report_bundle(), headers=sandbox.auth("patient/*.rs")
    )
    assert response.status_code == 403
