"""The sandbox FHIR server over HTTP: read, search, paging, create, conditional create,
update with If-Match, history; errors as OperationOutcome."""

from typing import Any

import pytest

from tests.sandbox.conftest import FHIR, Sandbox

LOINC = "http://loinc.org"
ALL = "patient/*.cruds"
P = "lumbar-candidate"


def new_observation(patient: str = P, **fields: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "72514-3"}], "text": "Pain severity"},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": "2024-05-01T10:00:00Z",
        "valueQuantity": {"value": 6},
    }
    resource.update(fields)
    return resource


async def test_read_returns_the_resource_with_its_version(sandbox: Sandbox) -> None:
    response = await sandbox.http.get(f"/fhir/Patient/{P}", headers=sandbox.auth(ALL))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert response.headers["etag"] == 'W/"1"'
    assert "GMT" in response.headers["last-modified"]
    body = response.json()
    assert body["meta"]["versionId"] == "1"
    assert body["meta"]["lastUpdated"].endswith("Z")
    assert body["name"][0]["family"] == "Testpatient"


async def test_unknown_resources_and_types_are_404_outcomes(sandbox: Sandbox) -> None:
    missing = await sandbox.http.get("/fhir/Observation/nope", headers=sandbox.auth(ALL))
    assert missing.status_code == 404
    assert missing.json()["issue"][0]["code"] == "not-found"
    unknown = await sandbox.http.get("/fhir/Basic/x", headers=sandbox.auth(ALL))
    assert unknown.status_code == 404
    assert unknown.json()["resourceType"] == "OperationOutcome"
    delete = await sandbox.http.delete(f"/fhir/Patient/{P}", headers=sandbox.auth(ALL))
    assert delete.status_code == 405


async def test_search_by_patient_code_and_date(sandbox: Sandbox) -> None:
    response = await sandbox.http.get(
        "/fhir/Observation",
        params={"patient": P, "code": f"{LOINC}|98979-8", "date": "ge2000-01-01"},
        headers=sandbox.auth(ALL),
    )
    bundle = response.json()
    assert response.status_code == 200
    assert bundle["type"] == "searchset"
    assert bundle["total"] == 1
    entry = bundle["entry"][0]
    assert entry["resource"]["code"]["coding"][0]["code"] == "98979-8"
    assert entry["fullUrl"] == f"{FHIR}/Observation/{entry['resource']['id']}"
    assert bundle["link"][0] == {
        "relation": "self",
        "url": f"{FHIR}/Observation?patient={P}"
        "&code=http%3A%2F%2Floinc.org%7C98979-8&date=ge2000-01-01",
    }


async def test_search_by_category_status_and_sort(sandbox: Sandbox) -> None:
    response = await sandbox.http.get(
        "/fhir/Observation",
        params={
            "subject": f"Patient/{P}",
            "category": "laboratory",
            "status": "final",
            "_sort": "-date",
        },
        headers=sandbox.auth(ALL),
    )
    entries = [e["resource"] for e in response.json()["entry"]]
    assert {r["code"]["coding"][0]["code"] for r in entries} == {
        "98979-8",
        "2160-0",
        "6301-6",
        "777-3",
    }
    pain = await sandbox.http.get(
        "/fhir/Observation",
        params={"patient": P, "code": "72514-3", "_sort": "-date"},
        headers=sandbox.auth(ALL),
    )
    dates = [e["resource"]["effectiveDateTime"] for e in pain.json()["entry"]]
    assert dates == sorted(dates, reverse=True) and len(dates) == 4


async def test_date_search_on_each_resource_kind(sandbox: Sandbox) -> None:
    auth = sandbox.auth(ALL)
    for resource_type, param in [
        ("Condition", "date"),
        ("Condition", "onset-date"),
        ("Procedure", "date"),
        ("MedicationRequest", "date"),
        ("MedicationRequest", "authoredon"),
        ("DiagnosticReport", "date"),
        ("Encounter", "date"),
    ]:
        everything = await sandbox.http.get(
            f"/fhir/{resource_type}", params={"patient": P, param: "ge1900-01-01"}, headers=auth
        )
        nothing = await sandbox.http.get(
            f"/fhir/{resource_type}", params={"patient": P, param: "lt1900-01-01"}, headers=auth
        )
        assert everything.json()["total"] > 0, (resource_type, param)
        assert nothing.json()["total"] == 0, (resource_type, param)


async def test_search_by_identifier_tag_and_id(sandbox: Sandbox) -> None:
    auth = sandbox.auth("user/*.cruds")
    by_identifier = await sandbox.http.get(
        "/fhir/Patient",
        params={
            "identifier": "https://discography-plugin.example/fhir/sid/sandbox-patient|SBX-0007"
        },
        headers=auth,
    )
    assert [e["resource"]["id"] for e in by_identifier.json()["entry"]] == ["pregnant"]
    created = await sandbox.http.post(
        "/fhir/Observation",
        json=new_observation(meta={"tag": [{"system": "urn:test", "code": "mine"}]}),
        headers=auth,
    )
    by_tag = await sandbox.http.get(
        "/fhir/Observation", params={"_tag": "urn:test|mine"}, headers=auth
    )
    assert [e["resource"]["id"] for e in by_tag.json()["entry"]] == [created.json()["id"]]
    by_id = await sandbox.http.get(
        "/fhir/Observation", params={"_id": created.json()["id"]}, headers=auth
    )
    assert by_id.json()["total"] == 1


async def test_unsupported_search_parameters_are_400_unless_lenient(sandbox: Sandbox) -> None:
    auth = sandbox.auth(ALL)
    strict = await sandbox.http.get("/fhir/Observation", params={"colour": "red"}, headers=auth)
    assert strict.status_code == 400
    assert strict.json()["issue"][0]["expression"] == ["colour"]
    lenient = await sandbox.http.get(
        "/fhir/Observation",
        params={"colour": "red", "patient": P},
        headers={**auth, "Prefer": "handling=lenient"},
    )
    assert lenient.status_code == 200


async def test_paging_follows_next_to_the_end(sandbox: Sandbox) -> None:
    auth = sandbox.auth(ALL)
    first = await sandbox.http.get(
        "/fhir/Procedure", params={"patient": P, "_count": "7"}, headers=auth
    )
    bundle = first.json()
    total = bundle["total"]
    seen: list[str] = []
    pages = 0
    while True:
        pages += 1
        seen += [e["resource"]["id"] for e in bundle.get("entry", [])]
        assert len(bundle.get("entry", [])) <= 7
        following = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        if not following:
            break
        assert following[0].startswith(f"{FHIR}/Procedure?_getpages=")
        assert P not in following[0]  # no search criteria (patient ids) in the links
        bundle = (await sandbox.http.get(following[0], headers=auth)).json()
    assert total == 32
    assert len(seen) == total == len(set(seen))
    assert pages == 5


async def test_page_tokens_belong_to_their_client_and_expire_with_it(sandbox: Sandbox) -> None:
    first = await sandbox.http.get(
        "/fhir/Procedure", params={"patient": P, "_count": "5"}, headers=sandbox.auth(ALL)
    )
    following = next(link["url"] for link in first.json()["link"] if link["relation"] == "next")
    other = sandbox.ehr.issue_access_token("another-app", ALL, patient=P).token
    response = await sandbox.http.get(following, headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 410


async def test_summary_count_gives_the_total_only(sandbox: Sandbox) -> None:
    response = await sandbox.http.get(
        "/fhir/Procedure", params={"patient": P, "_summary": "count"}, headers=sandbox.auth(ALL)
    )
    assert response.json()["total"] == 32
    assert "entry" not in response.json()


async def test_create_returns_201_location_and_etag(sandbox: Sandbox) -> None:
    response = await sandbox.http.post(
        "/fhir/Observation", json=new_observation(id="ignored"), headers=sandbox.auth(ALL)
    )
    assert response.status_code == 201
    body = response.json()
    assert body["id"] != "ignored"  # the server assigns ids
    assert response.headers["location"] == f"{FHIR}/Observation/{body['id']}/_history/1"
    assert response.headers["etag"] == 'W/"1"'
    read = await sandbox.http.get(f"/fhir/Observation/{body['id']}", headers=sandbox.auth(ALL))
    assert read.json()["valueQuantity"] == {"value": 6}


async def test_prefer_return_minimal_and_the_epic_like_default(make_sandbox: Any) -> None:
    sandbox = await make_sandbox(behaviour={"default_return": "minimal"})
    quiet = await sandbox.http.post(
        "/fhir/Observation", json=new_observation(), headers=sandbox.auth(ALL)
    )
    assert quiet.status_code == 201 and quiet.content == b""
    assert quiet.headers["location"].startswith(f"{FHIR}/Observation/")
    loud = await sandbox.http.post(
        "/fhir/Observation",
        json=new_observation(),
        headers={**sandbox.auth(ALL), "Prefer": "return=representation"},
    )
    assert loud.json()["resourceType"] == "Observation"


async def test_invalid_resources_are_rejected_with_the_element_named(sandbox: Sandbox) -> None:
    auth = sandbox.auth(ALL)
    broken = new_observation()
    del broken["status"]
    missing = await sandbox.http.post("/fhir/Observation", json=broken, headers=auth)
    assert missing.status_code == 400
    assert missing.json()["issue"][0]["expression"] == ["Observation.status"]
    wrong_type = await sandbox.http.post(
        "/fhir/Observation", json={"resourceType": "Condition"}, headers=auth
    )
    assert wrong_type.status_code == 400
    not_json = await sandbox.http.post(
        "/fhir/Observation",
        content=b"{not json",
        headers={**auth, "Content-Type": "application/fhir+json"},
    )
    assert not_json.status_code == 400
    xml = await sandbox.http.post(
        "/fhir/Observation",
        content=b"<Observation/>",
        headers={**auth, "Content-Type": "application/xml"},
    )
    assert xml.status_code == 415


async def test_references_to_missing_resources_are_422(sandbox: Sandbox) -> None:
    resource = new_observation(encounter={"reference": "Encounter/does-not-exist"})
    response = await sandbox.http.post(
        "/fhir/Observation", json=resource, headers=sandbox.auth(ALL)
    )
    assert response.status_code == 422
    assert "Encounter/does-not-exist does not exist" in response.json()["issue"][0]["diagnostics"]


async def test_conditional_create_finds_the_existing_resource(sandbox: Sandbox) -> None:
    auth = sandbox.auth(ALL)
    resource = new_observation(identifier=[{"system": "urn:report", "value": "r-1"}])
    condition = {"If-None-Exist": "identifier=urn:report|r-1"}
    first = await sandbox.http.post(
        "/fhir/Observation", json=resource, headers={**auth, **condition}
    )
    second = await sandbox.http.post(
        "/fhir/Observation", json=resource, headers={**auth, **condition}
    )
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    found = await sandbox.http.get(
        "/fhir/Observation", params={"identifier": "urn:report|r-1"}, headers=auth
    )
    assert found.json()["total"] == 1


async def test_conditional_create_with_several_matches_is_412(sandbox: Sandbox) -> None:
    auth = sandbox.auth(ALL)
    resource = new_observation(identifier=[{"system": "urn:report", "value": "dup"}])
    for _ in range(2):
        await sandbox.http.post("/fhir/Observation", json=resource, headers=auth)
    response = await sandbox.http.post(
        "/fhir/Observation",
        json=resource,
        headers={**auth, "If-None-Exist": "identifier=urn:report|dup"},
    )
    assert response.status_code == 412
    assert response.json()["issue"][0]["code"] == "multiple-matches"


async def test_a_server_without_conditional_create_ignores_if_none_exist(make_sandbox: Any) -> None:
    sandbox = await make_sandbox(behaviour={"conditional_create": False})
    auth = sandbox.auth(ALL)
    resource = new_observation(identifier=[{"system": "urn:report", "value": "r-2"}])
    header = {"If-None-Exist": "identifier=urn:report|r-2"}
    statuses = [
        (
            await sandbox.http.post("/fhir/Observation", json=resource, headers={**auth, **header})
        ).status_code
        for _ in range(2)
    ]
    assert statuses == [201, 201]
    metadata = (await sandbox.http.get("/fhir/metadata")).json()
    observation = next(r for r in metadata["rest"][0]["resource"] if r["type"] == "Observation")
    assert observation["conditionalCreate"] is False


async def test_refused_creates_answer_like_the_configured_ehr(make_sandbox: Any) -> None:
    sandbox = await make_sandbox(
        behaviour={"refuse_create": ["DiagnosticReport"], "refuse_create_status": 405}
    )
    report = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "code": {"text": "Discography"},
        "subject": {"reference": f"Patient/{P}"},
    }
    response = await sandbox.http.post(
        "/fhir/DiagnosticReport", json=report, headers=sandbox.auth(ALL)
    )
    assert response.status_code == 405
    assert response.json()["issue"][0]["code"] == "not-supported"
    metadata = (await sandbox.http.get("/fhir/metadata")).json()
    entry = next(r for r in metadata["rest"][0]["resource"] if r["type"] == "DiagnosticReport")
    assert {"code": "create"} not in entry["interaction"]


async def test_update_honours_if_match(sandbox: Sandbox) -> None:
    auth = sandbox.auth(ALL)
    created = (
        await sandbox.http.post("/fhir/Observation", json=new_observation(), headers=auth)
    ).json()
    url = f"/fhir/Observation/{created['id']}"
    amended = {**created, "status": "amended"}
    ok = await sandbox.http.put(url, json=amended, headers={**auth, "If-Match": 'W/"1"'})
    assert ok.status_code == 200
    assert ok.headers["etag"] == 'W/"2"'
    stale = await sandbox.http.put(url, json=amended, headers={**auth, "If-Match": 'W/"1"'})
    assert stale.status_code == 412
    assert stale.json()["issue"][0]["code"] == "conflict"
    current = await sandbox.http.get(url, headers=auth)
    assert current.json()["meta"]["versionId"] == "2"


async def test_update_needs_the_matching_id_and_can_create(sandbox: Sandbox) -> None:
    auth = sandbox.auth(ALL)
    mismatch = await sandbox.http.put(
        "/fhir/Observation/abc", json=new_observation(id="xyz"), headers=auth
    )
    assert mismatch.status_code == 400
    assert mismatch.json()["issue"][0]["expression"] == ["Observation.id"]
    created = await sandbox.http.put(
        "/fhir/Observation/abc", json=new_observation(id="abc"), headers=auth
    )
    assert created.status_code == 201


async def test_history_and_vread_keep_every_version(sandbox: Sandbox) -> None:
    auth = sandbox.auth(ALL)
    created = (
        await sandbox.http.post("/fhir/Observation", json=new_observation(), headers=auth)
    ).json()
    url = f"/fhir/Observation/{created['id']}"
    await sandbox.http.put(url, json={**created, "status": "corrected"}, headers=auth)
    history = (await sandbox.http.get(f"{url}/_history", headers=auth)).json()
    assert history["type"] == "history"
    assert [e["resource"]["status"] for e in history["entry"]] == ["corrected", "final"]
    first = await sandbox.http.get(f"{url}/_history/1", headers=auth)
    assert first.json()["status"] == "final"
    assert (await sandbox.http.get(f"{url}/_history/9", headers=auth)).status_code == 404
    # A version id that is a digit to str.isdigit() but not to int() is unknown, not an error.
    assert (await sandbox.http.get(f"{url}/_history/²", headers=auth)).status_code == 404


async def test_search_by_post(sandbox: Sandbox) -> None:
    response = await sandbox.http.post(
        "/fhir/Condition/_search",
        data={"patient": P, "code:text": "chronic"},
        headers=sandbox.auth(ALL),
    )
    assert [e["resource"]["code"]["text"] for e in response.json()["entry"]] == [
        "Chronic low back pain"
    ]


@pytest.mark.parametrize("path", ["/fhir/Patient", "/fhir/Patient/lumbar-candidate"])
async def test_every_interaction_but_metadata_needs_a_token(sandbox: Sandbox, path: str) -> None:
    response = await sandbox.http.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert (await sandbox.http.get("/fhir/metadata")).status_code == 200
