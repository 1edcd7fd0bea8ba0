"""Medication courses: which drug, from when to when, and whether it is still taken."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from plugin.candidacy import chart_from_resources
from plugin.candidacy.medication_courses import (
    MedicationCourse,
    medication_courses,
    medication_texts,
)
from plugin.candidacy.policy_file import default_policy
from tests.candidacy.chart_builder import TODAY, med_request, med_statement


def courses(*resources: dict[str, Any]) -> list[MedicationCourse]:
    return list(medication_courses(chart_from_resources(list(resources)), default_policy(), TODAY))


def span(course: MedicationCourse) -> tuple[str | None, str | None, bool, str | None]:
    last = course.last_day(TODAY)
    return (
        course.start.text if course.start else None,
        course.end.text if course.end else None,
        course.ongoing,
        last.isoformat() if last else None,
    )


def test_an_active_request_is_ongoing_until_its_dosage_bounds_end() -> None:
    (open_ended,) = courses(med_request("naproxen", "a", authored="2025-01-02"))
    assert span(open_ended) == ("2025-01-02", None, True, "2025-06-15")
    (bounded,) = courses(
        med_request("naproxen", "b", authored="2025-01-02", bounds=("2025-01-05", "2025-03-01"))
    )
    assert span(bounded) == ("2025-01-05", "2025-03-01", True, "2025-03-01")


def test_a_finished_request_lasts_its_supply_or_its_validity() -> None:
    (supplied,) = courses(
        med_request(
            "naproxen", "a", status="completed", authored="2025-01-01", supply_days=30, repeats=1
        )
    )
    assert span(supplied) == ("2025-01-01", "2025-03-02", False, "2025-03-02")
    assert supplied.estimated_end
    (valid,) = courses(
        med_request(
            "naproxen",
            "b",
            status="stopped",
            authored="2025-01-01",
            validity=("2025-01-01", "2025-02-01"),
        )
    )
    assert span(valid) == ("2025-01-01", "2025-02-01", False, "2025-02-01")
    (bare,) = courses(med_request("naproxen", "c", status="completed", authored="2025-01-01"))
    assert span(bare) == ("2025-01-01", None, False, "2025-01-01")


def test_statements_use_their_effective_time_or_assertion_date() -> None:
    (period,) = courses(
        med_statement("ibuprofen", "a", status="completed", start="2024-11", end="2025-02")
    )
    assert span(period) == ("2024-11", "2025-02", False, "2025-02-28")
    (asserted,) = courses(med_statement("ibuprofen", "b", asserted="2025-05-01"))
    assert span(asserted) == ("2025-05-01", None, True, "2025-06-15")


def test_one_course_per_ingredient_and_class() -> None:
    found = courses(
        med_statement(
            "Hydrocodone bitartrate and acetaminophen tablet", "combo", start="2025-01-01"
        )
    )
    assert sorted((c.drug_class.id, c.ingredient.name) for c in found) == [
        ("analgesic", "acetaminophen"),
        ("opioid-analgesic", "hydrocodone"),
    ]


def test_brand_names_and_plurals_match_the_ingredient() -> None:
    (course,) = courses(med_statement("Eliquis tablets", "e", start="2025-01-01"))
    assert course.ingredient.name == "apixaban"
    assert courses(med_statement("Vitamin D3", "v", start="2025-01-01")) == []


def test_dosage_and_ingredients_of_the_wrong_type_read_as_absent() -> None:
    request = med_request("apixaban 5 mg", "a", authored="2025-01-02")
    request["dosageInstruction"] = 5
    (course,) = courses(request)
    assert span(course) == ("2025-01-02", None, True, "2025-06-15")
    medication = {"resourceType": "Medication", "id": "med", "ingredient": 5}
    by_reference = {
        "resourceType": "MedicationRequest",
        "id": "b",
        "status": "active",
        "intent": "order",
        "medicationReference": {"reference": "Medication/med", "display": "naproxen"},
    }
    assert medication_texts(by_reference, chart_from_resources([medication])) == ["naproxen"]


def test_a_supply_past_the_calendar_ends_on_its_last_day() -> None:
    # JSON numbers have no limit; a date has.
    for value, unit in ((10**30, "d"), (1e300, "wk"), (1e300, "mo")):
        request = med_request("naproxen", "n", status="completed", authored="2025-01-02")
        request["dispenseRequest"] = {"expectedSupplyDuration": {"value": value, "code": unit}}
        (course,) = courses(request)
        assert span(course)[1] == "9999-12-31"


def test_a_finished_record_without_an_end_has_an_unknown_end() -> None:
    (completed,) = courses(med_request("apixaban", "a", status="completed", authored="2025-06-05"))
    assert (completed.ongoing, completed.end_unknown) == (False, True)
    (unknown,) = courses(med_statement("apixaban", "b", status="unknown", start="2025-06-05"))
    assert unknown.end_unknown
    assert unknown.started_since(TODAY - timedelta(days=10))
    assert not unknown.started_since(TODAY - timedelta(days=9))
    (supplied,) = courses(
        med_request("apixaban", "c", status="completed", authored="2025-06-05", supply_days=30)
    )
    assert not supplied.end_unknown  # its supply gives the end
    (active,) = courses(med_request("apixaban", "d", authored="2025-06-05"))
    assert not active.end_unknown


def test_a_later_record_of_the_same_drug_settles_a_course_of_unknown_end() -> None:
    completed = med_request("apixaban", "a", status="completed", authored="2025-05-01")
    # Restarted later (its own end unknown): the earlier course is settled, the later is not.
    first, restarted = courses(
        completed, med_request("apixaban", "b", status="completed", authored="2025-05-02")
    )
    assert (first.settled, restarted.settled, restarted.end_unknown) == (True, False, True)
    # A known end on or after its start settles it; one before its start does not.
    for end, settled in (("2025-05-01", True), ("2025-04-30", False)):
        course, _ = courses(
            completed,
            med_statement("apixaban", "s", status="stopped", start="2025-04-01", end=end),
        )
        assert course.settled is settled
    # An active record settles it (it is judged on its own); another drug does not.
    assert courses(completed, med_request("apixaban", "c", authored="2025-01-01"))[0].settled
    assert not courses(completed, med_request("warfarin", "w", authored="2025-06-01"))[0].settled


def test_only_a_surely_later_record_settles_a_course_of_unknown_end() -> None:
    # Same day, or a month that may be the same day: neither is surely later.
    same_day = courses(
        med_request("apixaban", "a", status="completed", authored="2025-05-01"),
        med_request("apixaban", "b", status="completed", authored="2025-05-01"),
    )
    assert [c.settled for c in same_day] == [False, False]
    in_month = courses(
        med_request("apixaban", "a", status="completed", authored="2025-05-10"),
        med_request("apixaban", "b", status="completed", authored="2025-05"),
    )
    assert [c.settled for c in in_month] == [False, False]
    # An undated course cannot be shown to come before anything.
    undated = courses(
        med_request("apixaban", "a", status="completed"),
        med_request("apixaban", "b", status="completed", authored="2025-06-01"),
    )
    assert [c.settled for c in undated] == [False, False]
