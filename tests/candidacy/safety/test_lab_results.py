"""Reading lab values: units, comparators, text values, and results that cannot be read."""

from __future__ import annotations

from typing import Any

import pytest

from plugin.candidacy import chart_from_resources
from plugin.candidacy.context import AssessmentContext
from plugin.candidacy.order import Order
from plugin.candidacy.policy_file import default_policy
from plugin.candidacy.safety.lab_results import LabResult, lab_results, meets
from plugin.candidacy.selections import recorded_date, timing
from plugin.interpretation.thresholds import Threshold
from tests.candidacy.chart_builder import TODAY, observation


def read(resource: dict[str, Any]) -> LabResult:
    context = AssessmentContext(
        chart_from_resources([resource]), Order(), default_policy(), frozenset(), TODAY
    )
    found = [r for results in lab_results(context).values() for r in results]
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize(
    ("resource", "shown"),
    [
        (
            observation("p", loinc="777-3", when="2025-06-01", value=250, ucum="10*3/uL"),
            "250 ×10⁹/L",
        ),
        (observation("p", loinc="777-3", when="2025-06-01", value=99000, unit="/uL"), "99 ×10⁹/L"),
        (
            observation("e", loinc="98979-8", when="2025-06-01", value_string=">60"),
            "> 60 mL/min/1.73 m²",
        ),
        (
            observation(
                "e",
                loinc="98979-8",
                when="2025-06-01",
                value=60,
                comparator=">",
                ucum="mL/min/{1.73_m2}",
            ),
            "> 60 mL/min/1.73 m²",
        ),
        (observation("i", loinc="6301-6", when="2025-06-01", value=1.1), "1.1"),
        (observation("c", loinc="2160-0", when="2025-06-01", value=88.4, ucum="umol/L"), "1 mg/dL"),
        (observation("i", text="INR", when="2025-06-01", value=1.3), "1.3"),  # text only
    ],
)
def test_values_in_the_policy_unit(resource: dict[str, Any], shown: str) -> None:
    assert read(resource).shown == shown


@pytest.mark.parametrize(
    ("resource", "problem"),
    [
        (
            observation("e", loinc="98979-8", when="2025-06-01", value=1.2, ucum="mmol/L"),
            "its unit 'mmol/L' is not one the policy knows for eGFR",
        ),
        (
            observation("e", loinc="98979-8", when="2025-06-01", value_string="pending"),
            "the value 'pending' is not a number",
        ),
        (
            observation("e", loinc="98979-8", when="2025-06-01")
            | {"dataAbsentReason": {"text": "error"}},
            "the result is marked absent",
        ),
        (observation("e", loinc="98979-8", when="2025-06-01"), "the result has no numeric value"),
    ],
)
def test_unreadable_values_say_why(resource: dict[str, Any], problem: str) -> None:
    result = read(resource)
    assert (result.value, result.problem) == (None, problem)


def test_undated_and_registered_results_are_not_results() -> None:
    context = AssessmentContext(
        chart_from_resources(
            [
                observation("a", loinc="98979-8", value=50, ucum="mL/min/{1.73_m2}"),
                observation("b", loinc="98979-8", when="2025-06-01", status="registered"),
            ]
        ),
        Order(),
        default_policy(),
        frozenset(),
        TODAY,
    )
    assert lab_results(context)["egfr"] == ()


@pytest.mark.parametrize(
    ("comparator", "value", "expected"),
    [
        (None, 29.9, True),
        (None, 30.0, False),
        (">", 60.0, False),
        ("<", 15.0, True),
        (">", 20.0, None),  # above 20 may or may not be below 30
        ("<=", 30.0, None),
        (">=", 30.0, False),
    ],
)
def test_reported_bounds_against_a_threshold(
    comparator: str | None, value: float, expected: bool | None
) -> None:
    below_30 = Threshold.model_validate({"operator": "<", "value": 30})
    result = read(
        observation(
            "e",
            loinc="98979-8",
            when="2025-06-01",
            value=value,
            comparator=comparator,
            ucum="mL/min/{1.73_m2}",
        )
    )
    assert meets(below_30, result) is expected


@pytest.mark.parametrize(
    "dates",
    [
        {"effectiveDateTime": "2025-06-01T23:30:00-05:00"},
        {"effectiveDateTime": "2025-06"},
        {"effectiveDateTime": "not a date", "issued": "2025-06-03T10:00:00Z"},
        {"effectiveDateTime": "2025-13-01", "effectivePeriod": {"start": "2025-05-30"}},
        {"effectivePeriod": {"start": "2025-05-30", "end": "2025-06-02"}},
        {"effectivePeriod": {"end": "2025-06-02"}},
        {"effectiveInstant": "2025-06-01T08:00:00Z"},
        {"issued": "2025-06-04T09:00:00+02:00"},
    ],
)
def test_a_result_is_dated_as_its_effective_time_says(dates: dict[str, Any]) -> None:
    # lab_results reads effectiveDateTime directly; whatever the shape, the date must be the
    # one the general selection gives (its start, else when it was issued).
    resource = observation("i", loinc="6301-6", value=1.1)
    resource.update(dates)
    expected = timing(resource).start or recorded_date(resource)
    assert expected is not None
    assert read(resource).when == expected


def test_a_value_beyond_any_float_cannot_be_read() -> None:
    # JSON numbers have no limit: Python's decoder keeps 10**400 whole.
    result = read(observation("e", loinc="98979-8", when="2025-06-01", value=10**400))
    assert (result.value, result.problem) == (None, "the value is too large to be a result")


def test_a_lab_coded_with_an_unlisted_loinc_code_is_read_by_its_words() -> None:
    # LOINC 26515-7 is a platelet count the policy does not list: its words say what it is.
    result = read(
        observation(
            "plt",
            loinc="26515-7",
            text="Platelets [#/volume] in Blood",
            when="2025-06-12",
            value=40,
            ucum="10*3/uL",
        )
    )
    assert (result.lab.id, result.value) == ("platelets", 40.0)


def test_a_lab_carrying_a_code_the_policy_lists_for_another_lab_is_that_lab() -> None:
    creatinine = observation(
        "cr",
        loinc="2160-0",
        text="Creatinine (for eGFR)",
        when="2025-06-12",
        value=1.0,
        unit="mg/dL",
    )
    assert read(creatinine).lab.id == "creatinine"
