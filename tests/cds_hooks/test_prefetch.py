from __future__ import annotations

from datetime import date
from typing import Any

from plugin.cds_hooks.chart_queries import ChartQuery
from plugin.cds_hooks.prefetch import read_prefetch

SEARCH = ChartQuery("conditions", "Condition?patient={{context.patientId}}")
READ = ChartQuery("patient", "Patient/{{context.patientId}}")
CONDITION = {"resourceType": "Condition", "id": "c1"}


def bundle(*resources: dict[str, Any], **extra: object) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
        **extra,
    }


def test_absent_key_must_be_fetched() -> None:
    assert read_prefetch(SEARCH, {}).fetch_because == "not prefetched"


def test_null_means_no_data() -> None:
    assert read_prefetch(SEARCH, {"conditions": None}).resources == ()
    assert read_prefetch(READ, {"patient": None}).resources == ()


def test_bundle_gives_its_resources_without_warnings() -> None:
    warning = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "warning", "code": "informational"}],
    }
    assert read_prefetch(SEARCH, {"conditions": bundle(CONDITION, warning)}).resources == (
        CONDITION,
    )


def test_bundle_without_type_or_entries_is_empty() -> None:
    assert read_prefetch(SEARCH, {"conditions": {"resourceType": "Bundle"}}).resources == ()


def test_error_outcome_means_fetch_ourselves() -> None:
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "exception"}],
    }
    assert read_prefetch(SEARCH, {"conditions": outcome}).fetch_because
    assert read_prefetch(SEARCH, {"conditions": bundle(CONDITION, outcome)}).fetch_because


def test_first_page_only_means_fetch_ourselves() -> None:
    paged = bundle(CONDITION, link=[{"relation": "next", "url": "https://x/Condition?page=2"}])
    assert read_prefetch(SEARCH, {"conditions": paged}).fetch_because


def test_read_gives_the_resource() -> None:
    patient = {"resourceType": "Patient", "id": "p"}
    assert read_prefetch(READ, {"patient": patient}).resources == (patient,)


def test_wrong_values_are_problems_named_by_key() -> None:
    for value in ("text", [1], {"id": "x"}):
        problem = read_prefetch(SEARCH, {"conditions": value}).problem
        assert problem is not None and problem.field == "prefetch.conditions"
    problem = read_prefetch(READ, {"patient": CONDITION}).problem
    assert problem is not None and problem.rule == "prefetch-type"
    problem = read_prefetch(SEARCH, {"conditions": bundle({"id": "no-type"})}).problem
    assert problem is not None and problem.field == "prefetch.conditions.entry[0].resource"


def test_warning_outcome_in_place_of_the_data_means_fetch_ourselves() -> None:
    # standards.md §2.4 #13: an OperationOutcome as the value says the client hit a problem.
    warning = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "warning", "code": "incomplete"}],
    }
    for query, key in ((SEARCH, "conditions"), (READ, "patient")):
        reading = read_prefetch(query, {key: warning})
        assert reading.problem is None and reading.resources is None
        assert reading.fetch_because == "the client reported a problem instead of data"


def test_malformed_entries_are_problems_never_skipped() -> None:
    # Skipping them would assess the records they stand for as absent.
    cases = {
        "prefetch.conditions.entry[1]": [{"resource": CONDITION}, "Condition/c2"],
        "prefetch.conditions.entry[0].resource": [{"resource": None}],
    }
    for field, entries in cases.items():
        value = {"resourceType": "Bundle", "type": "searchset", "entry": entries}
        problem = read_prefetch(SEARCH, {"conditions": value}).problem
        assert problem is not None and problem.field == field


def test_entry_without_a_resource_but_with_a_response_carries_no_data() -> None:
    # FHIR bdl-5: such an entry is valid and holds no record.
    value = bundle(CONDITION)
    value["entry"].append({"response": {"status": "200"}})
    assert read_prefetch(SEARCH, {"conditions": value}).resources == (CONDITION,)


# -- a latest-first Observation search ---------------------------------------------------------

LATEST = ChartQuery(
    "labResults",
    "Observation?patient={{context.patientId}}&category=laboratory&_sort=-date&_count=500",
    latest_first=True,
)
HORIZON = date(2026, 2, 14)
SORTED_SELF = {
    "relation": "self",
    "url": "https://ehr.example.org/fhir/Observation?patient=p&_sort=-date&_count=500",
}
NEXT_LINK = {"relation": "next", "url": "https://ehr.example.org/fhir/Observation?p=2"}
NEXT = {"link": [SORTED_SELF, NEXT_LINK]}


def lab(rid: str, day: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": rid, "effectiveDateTime": day}


def test_a_latest_first_page_reaching_the_horizon_needs_no_more() -> None:
    page = bundle(lab("new", "2026-03-01"), lab("old", "2025-12-01"), **NEXT)
    reading = read_prefetch(LATEST, {"labResults": page}, HORIZON)
    assert reading.resources == (page["entry"][0]["resource"], page["entry"][1]["resource"])


def test_a_latest_first_page_short_of_the_horizon_is_fetched() -> None:
    page = bundle(lab("new", "2026-03-01"), lab("recent", "2026-02-20"), **NEXT)
    reading = read_prefetch(LATEST, {"labResults": page}, HORIZON)
    assert reading.fetch_because == "the client sent only its first page"


def test_a_first_page_of_another_search_is_fetched_whatever_its_dates() -> None:
    query = ChartQuery("labs", "Observation?patient={{context.patientId}}&category=laboratory")
    page = bundle(lab("new", "2026-03-01"), lab("old", "2025-12-01"), **NEXT)
    assert read_prefetch(query, {"labs": page}, HORIZON).fetch_because is not None
    assert read_prefetch(LATEST, {"labResults": page}).fetch_because is not None  # no horizon


def test_a_latest_first_page_the_server_did_not_sort_is_fetched() -> None:
    unsorted = {"relation": "self", "url": "https://ehr.example.org/fhir/Observation?patient=p"}
    page = bundle(lab("new", "2026-03-01"), lab("old", "2025-12-01"), link=[unsorted, NEXT_LINK])
    reading = read_prefetch(LATEST, {"labResults": page}, HORIZON)
    assert reading.fetch_because == "the client sent only its first page"


def test_a_bundle_link_that_is_not_an_array_is_malformed() -> None:
    # Read as no links, its next link would pass a first page off as the whole search.
    page = bundle(CONDITION, link={"relation": "next", "url": "https://ehr.example.org/x"})
    reading = read_prefetch(SEARCH, {"conditions": page})
    assert reading.problem is not None and reading.problem.field == "prefetch.conditions.link"
