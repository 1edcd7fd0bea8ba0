"""Who gave the candidacy attestations: the signed-in user by name, their role only when the
EHR states one (a PractitionerRole `fhirUser`), and when each was given."""

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from smart_app.fhir_errors import FhirError
from smart_app.scopes import LaunchKind
from smart_app.session import SmartSession
from smart_app.workflow.candidacy_attesters import (
    Attester,
    GivenAttestation,
    attestations_from_json,
    attestations_to_json,
    attester_of,
    given_attestations,
    role_words,
)

ISS = "https://ehr.example/fhir"


def session(fhir_user: str | None, name: str | None = "Dr. Ada Example") -> SmartSession:
    return SmartSession(
        iss=ISS,
        ehr_name="Example EHR",
        launch_kind=LaunchKind.EHR,
        patient="p1",
        granted_scope="launch openid fhirUser patient/*.rs",
        access_token=SecretStr("token"),
        fhir_user=fhir_user,
        user_name=name,
        csrf_token=SecretStr("csrf"),
    )


class Reader:
    def __init__(self, resource: dict[str, Any] | None) -> None:
        self.resource = resource
        self.reads: list[tuple[str, str]] = []

    async def read(self, resource_type: str, resource_id: str) -> dict[str, Any]:
        self.reads.append((resource_type, resource_id))
        if self.resource is None:
            raise FhirError("refused")
        return self.resource


PHYSICIAN_ROLE = {
    "resourceType": "PractitionerRole",
    "id": "r1",
    "code": [{"coding": [{"system": "http://snomed.info/sct", "display": "Physician"}]}],
}


async def test_a_practitioner_role_user_is_named_with_the_role_the_ehr_gives() -> None:
    reader = Reader(PHYSICIAN_ROLE)
    attester = await attester_of(reader, session(f"{ISS}/PractitionerRole/r1"))
    assert reader.reads == [("PractitionerRole", "r1")]
    assert attester == Attester(f"{ISS}/PractitionerRole/r1", "Dr. Ada Example", "Physician")
    assert attester.words == "Dr. Ada Example (Physician)"


async def test_a_practitioner_user_has_no_role_and_nothing_is_read() -> None:
    # A Practitioner resource states no role; the name's free text is not taken for one.
    reader = Reader({"resourceType": "Practitioner"})
    attester = await attester_of(reader, session("Practitioner/physical-therapist"))
    assert reader.reads == []
    assert attester.role is None and attester.words == "Dr. Ada Example"


async def test_a_role_that_cannot_be_read_leaves_the_name_alone() -> None:
    attester = await attester_of(Reader(None), session("PractitionerRole/r1"))
    assert attester == Attester("PractitionerRole/r1", "Dr. Ada Example", None)


async def test_a_user_on_another_server_is_not_read() -> None:
    reader = Reader(PHYSICIAN_ROLE)
    await attester_of(reader, session("https://elsewhere.example/fhir/PractitionerRole/r1"))
    assert reader.reads == []


def test_role_words_prefer_the_text_then_a_display() -> None:
    assert role_words({"code": [{"text": " Spine surgeon ", "coding": []}]}) == "Spine surgeon"
    assert role_words(PHYSICIAN_ROLE) == "Physician"
    assert role_words({"code": [{"coding": [{"code": "x"}]}]}) is None
    assert role_words({}) is None


def test_an_unnamed_user_is_named_by_reference_or_as_unidentified() -> None:
    assert Attester("Practitioner/x", None).words == (
        "the signed-in user Practitioner/x (no name in the EHR)"
    )
    assert Attester(None, None).words == "a user the EHR did not identify"


def test_saving_again_keeps_when_the_same_person_gave_an_attestation() -> None:
    ada = Attester("Practitioner/ada", "Ada")
    first = given_attestations(["imaging-inconclusive"], ada, 100.0)
    again = given_attestations(["imaging-inconclusive", "decision-hinges"], ada, 200.0, first)
    assert [(g.id, g.given_at) for g in again] == [
        ("imaging-inconclusive", 100.0),
        ("decision-hinges", 200.0),
    ]
    # Someone else giving the same attestation gives it anew, under their own name.
    bob = Attester("Practitioner/bob", "Bob")
    theirs = given_attestations(["imaging-inconclusive"], bob, 300.0, again)
    assert theirs == (GivenAttestation("imaging-inconclusive", bob, 300.0),)


def test_given_attestations_survive_storage() -> None:
    given = (
        GivenAttestation("decision-hinges", Attester("PractitionerRole/r", "A", "Physician"), 1.5),
        GivenAttestation("imaging-inconclusive", Attester(None, None), 2.0),
    )
    assert attestations_from_json(attestations_to_json(given)) == given
    assert given[0].given_on == "1970-01-01"


def test_an_attestation_is_dated_by_the_sites_calendar_day() -> None:
    # 23:30 UTC on 20 November is already the 21st in Tokyo and still the 20th in Denver.
    late = datetime(2026, 11, 20, 23, 30, tzinfo=UTC).timestamp()
    ada = Attester("Practitioner/ada", "Ada")
    (tokyo,) = given_attestations(["decision-hinges"], ada, late, zone=ZoneInfo("Asia/Tokyo"))
    (denver,) = given_attestations(["decision-hinges"], ada, late, zone=ZoneInfo("America/Denver"))
    assert (tokyo.given_on, denver.given_on) == ("2026-11-21", "2026-11-20")
    # The day is kept as given: a later reading does not recount it in another zone.
    assert attestations_from_json(attestations_to_json([tokyo]))[0].given_on == "2026-11-21"


def test_an_attestation_stored_without_its_day_reads_the_utc_day() -> None:
    late = datetime(2026, 11, 20, 23, 30, tzinfo=UTC).timestamp()
    stored = {"id": "decision-hinges", "reference": None, "name": None, "given_at": late}
    assert attestations_from_json([stored])[0].given_on == "2026-11-20"
