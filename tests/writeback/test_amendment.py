from plugin.fhir_mapping.identifiers import IDENTIFIER_SYSTEM
from plugin.writeback import KnownResource
from plugin.writeback.amendment import (
    amended,
    attributed_provenance,
    document_token_version,
    entered_in_error,
    latest_document,
    replacing_document,
    superseded,
    version_identity,
    versioned_provenance,
)


def note(value: str, server_id: str) -> KnownResource:
    return KnownResource(f"{IDENTIFIER_SYSTEM}|{value}", "DocumentReference", server_id, "1")


def test_later_versions_get_their_own_note_and_provenance_identity() -> None:
    assert version_identity("s.document", 1) == "s.document"
    assert version_identity("s.document", 3) == "s.document.v3"
    assert document_token_version(f"{IDENTIFIER_SYSTEM}|s.document.v3", "s") == 3
    assert document_token_version(f"{IDENTIFIER_SYSTEM}|s.document", "s") == 1
    assert document_token_version(f"{IDENTIFIER_SYSTEM}|t.document", "s") is None
    assert document_token_version("urn:other|s.document", "s") is None


def test_the_latest_note_is_the_highest_version() -> None:
    known = {k.token: k for k in (note("s.document", "a"), note("s.document.v2", "b"))}
    found = latest_document(known, "s")
    assert found is not None and found.id == "b"
    assert latest_document({}, "s") is None


def test_statuses_of_an_amendment() -> None:
    observation = {"resourceType": "Observation", "status": "final", "meta": {"versionId": "4"}}
    assert amended(observation, "o1") == {
        "resourceType": "Observation",
        "status": "amended",
        "id": "o1",
        "meta": {},
    }
    assert amended({"resourceType": "Procedure", "status": "completed"}, "p")["status"] == (
        "completed"
    )
    # A level still not completed has no result to amend.
    not_completed = {"resourceType": "Observation", "status": "cancelled"}
    assert amended(not_completed, "o2")["status"] == "cancelled"
    assert entered_in_error(observation, "o1")["status"] == "entered-in-error"
    assert (
        superseded({"resourceType": "DocumentReference", "status": "current"}, "d")["status"]
        == "superseded"
    )
    assert observation["status"] == "final"  # inputs are not changed


def test_the_new_note_replaces_the_old() -> None:
    body = replacing_document(
        {"resourceType": "DocumentReference", "docStatus": "final"},
        "s.document.v2",
        note("s.document", "d1"),
    )
    assert body["docStatus"] == "amended"
    assert body["relatesTo"] == [
        {"code": "replaces", "target": {"reference": "DocumentReference/d1"}}
    ]
    assert body["identifier"] == [{"system": IDENTIFIER_SYSTEM, "value": "s.document.v2"}]


def test_the_provenance_of_an_amendment() -> None:
    body = versioned_provenance(
        {
            "resourceType": "Provenance",
            "meta": {
                "profile": ["p"],
                "tag": [{"system": IDENTIFIER_SYSTEM, "code": "s.provenance"}],
            },
            "activity": {"coding": [{"code": "CREATE"}]},
        },
        "s.provenance.v2",
    )
    assert body["meta"] == {
        "profile": ["p"],
        "tag": [{"system": IDENTIFIER_SYSTEM, "code": "s.provenance.v2"}],
    }
    body = attributed_provenance(body, ["Observation/o1", "urn:uuid:n"], revises=True)
    assert body["target"] == [{"reference": "Observation/o1"}, {"reference": "urn:uuid:n"}]
    assert body["activity"] == {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation", "code": "UPDATE"}
        ]
    }
    created = attributed_provenance(body, ["urn:uuid:n"], revises=False)
    assert created["activity"]["coding"][0]["code"] == "CREATE"
