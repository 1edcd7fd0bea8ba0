from typing import Any

import pytest

from plugin.sandbox.fhir.outcome import FhirError
from plugin.sandbox.fhir.search import matches, parse_search, sort_resources

BASE = "http://127.0.0.1:8000/fhir"
LOINC = "http://loinc.org"


def observation(**fields: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": fields.pop("id", "o1"),
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": LOINC, "code": "6301-6"}], "text": "INR"},
        "category": [{"coding": [{"system": "cat", "code": "laboratory"}]}],
        "effectiveDateTime": "2024-03-01T10:00:00Z",
    }
    resource.update(fields)
    return resource


def hit(params: list[tuple[str, str]], resource: dict[str, Any], kind: str = "Observation") -> bool:
    return matches(parse_search(kind, params, BASE), resource, BASE)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"{LOINC}|6301-6", True),
        ("6301-6", True),
        (f"{LOINC}|", True),
        ("|6301-6", False),  # the coding has a system
        (f"{LOINC}|777-3", False),
        (f"{LOINC}|777-3,{LOINC}|6301-6", True),  # comma: any of
    ],
)
def test_token_forms(value: str, expected: bool) -> None:
    assert hit([("code", value)], observation()) is expected


def test_token_text_modifier_matches_the_start_of_a_word_insensitively() -> None:
    medication = {
        "resourceType": "MedicationRequest",
        "id": "m",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"text": "Apixaban 5 mg oral tablet"},
    }
    assert hit([("code:text", "apixaban")], medication, "MedicationRequest")
    assert not hit([("code:text", "warfarin")], medication, "MedicationRequest")


def test_repeated_parameters_all_hold() -> None:
    params = [("date", "ge2024-01-01"), ("date", "lt2024-02-01")]
    assert not hit(params, observation())
    assert hit([("date", "ge2024-01-01"), ("date", "lt2024-04-01")], observation())


def test_reference_forms_and_the_status_code() -> None:
    assert hit([("patient", "p1")], observation())
    assert hit([("subject", "Patient/p1")], observation())
    assert hit([("patient", f"{BASE}/Patient/p1")], observation())
    assert not hit([("patient", "p2")], observation())
    assert hit([("status", "final")], observation())
    assert not hit([("status", "preliminary")], observation())


def test_identifier_and_tag_tokens() -> None:
    tagged = observation(
        identifier=[{"system": "urn:sys", "value": "abc"}],
        meta={"tag": [{"system": "urn:tags", "code": "t1"}]},
    )
    assert hit([("identifier", "urn:sys|abc")], tagged)
    assert not hit([("identifier", "urn:other|abc")], tagged)
    assert hit([("_tag", "urn:tags|t1")], tagged)
    assert hit([("_id", "o1")], tagged)


def test_missing_modifier() -> None:
    assert hit([("value-concept:missing", "true")], observation())
    assert not hit([("code:missing", "true")], observation())


def test_strings_match_the_start_ignoring_case_and_accents() -> None:
    patient = {
        "resourceType": "Patient",
        "id": "p",
        "name": [{"family": "Müller", "given": ["Zoë"]}],
    }
    assert hit([("family", "mull")], patient, "Patient")
    assert hit([("name", "zoe")], patient, "Patient")
    assert not hit([("name", "oe")], patient, "Patient")
    assert hit([("name:contains", "ll")], patient, "Patient")
    assert hit([("family:exact", "Müller")], patient, "Patient")
    assert not hit([("family:exact", "müller")], patient, "Patient")


def test_bad_parameters_are_all_reported_by_name() -> None:
    with pytest.raises(FhirError) as caught:
        parse_search(
            "Observation", [("colour", "red"), ("date", "xx2024"), ("_count", "lots")], BASE
        )
    assert caught.value.status == 400
    assert [i.expression for i in caught.value.issues] == [("colour",), ("date",), ("_count",)]


@pytest.mark.parametrize("count", ["lots", "-1", "²", "1.5"])
def test_a_count_that_is_not_a_whole_number_is_a_400_naming_it(count: str) -> None:
    # "²" passes str.isdigit() but not int(): it must be a 400, never a server error.
    with pytest.raises(FhirError) as caught:
        parse_search("Observation", [("_count", count)], BASE)
    assert caught.value.status == 400
    assert [i.expression for i in caught.value.issues] == [("_count",)]


def test_lenient_handling_skips_unknown_parameters() -> None:
    query = parse_search("Observation", [("colour", "red")], BASE, lenient=True)
    assert query.ignored == ("colour",)
    assert matches(query, observation(), BASE)


def test_reference_to_the_wrong_type_is_refused() -> None:
    with pytest.raises(FhirError, match="must refer to a Patient"):
        parse_search("Observation", [("patient", "Group/g1")], BASE)


def test_sort_by_date_descending_puts_missing_dates_last() -> None:
    resources = [
        observation(id="a", effectiveDateTime="2024-01-01"),
        observation(id="b", effectiveDateTime="2024-03-01"),
        {**observation(id="c"), "effectiveDateTime": None},
        observation(id="d", effectiveDateTime="2024-02-01"),
    ]
    resources[2].pop("effectiveDateTime")
    newest_first = sort_resources(
        parse_search("Observation", [("_sort", "-date")], BASE), resources
    )
    oldest_first = sort_resources(parse_search("Observation", [("_sort", "date")], BASE), resources)
    assert [r["id"] for r in newest_first] == ["b", "d", "a", "c"]
    assert [r["id"] for r in oldest_first] == ["a", "d", "b", "c"]


def test_count_is_capped_and_summary_count_recognised() -> None:
    assert parse_search("Observation", [("_count", "100000")], BASE).count == 1000
    assert parse_search("Observation", [("_summary", "count")], BASE).summary_count


def test_what_a_search_remembers_of_a_record_gives_the_same_answers() -> None:
    # The store keeps one memo per stored version across searches: a memo filled by earlier
    # queries must answer every later one as a fresh reading does.
    records = [
        observation(id="a"),
        observation(id="b", code={"coding": [{"system": LOINC, "code": "777-3"}]}),
        observation(id="c", effectiveDateTime="2023-12-31", subject={"reference": "Patient/p2"}),
        observation(id="d", effectivePeriod={"start": "2024-02-20", "end": "2024-03-05"}),
        {**observation(id="e"), "category": []},
    ]
    queries = [
        [("code", f"{LOINC}|6301-6")],
        [("code", "777-3,6301-6"), ("patient", "p1")],
        [("code", f"{LOINC}|")],
        [("category", "laboratory"), ("date", "ge2024-03-01")],
        [("date", "lt2024-01-01")],
        [("date", "ge2024-03-01"), ("date", "lt2024-03-02")],
        [("category:missing", "true")],
        [("subject", "Patient/p2")],
        [("code:text", "inr")],
    ]
    memos: dict[str, dict[Any, Any]] = {str(r["id"]): {} for r in records}
    for params in queries * 2:
        query = parse_search("Observation", params, BASE)
        for record in records:
            fresh = matches(query, record, BASE)
            assert matches(query, record, BASE, memos[str(record["id"])]) is fresh, params
