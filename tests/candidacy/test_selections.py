"""FHIRPath selections: when a record happened, across the choice types of each resource."""

from __future__ import annotations

from typing import Any

import fhirpathpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugin.candidacy.partial_dates import parse_partial_date
from plugin.candidacy.selections import abatement_date, first_date, recorded_date, timing
from plugin.conformance.r4_model import R4_MODEL


@pytest.mark.parametrize(
    ("resource", "start", "end"),
    [
        ({"resourceType": "Observation", "effectiveDateTime": "2025-03"}, "2025-03", None),
        (
            {"resourceType": "Observation", "effectiveInstant": "2025-03-01T10:00:00Z"},
            "2025-03-01",
            None,
        ),
        (
            {
                "resourceType": "Observation",
                "effectivePeriod": {"start": "2025-01", "end": "2025-02"},
            },
            "2025-01",
            "2025-02",
        ),
        (
            {"resourceType": "Procedure", "performedPeriod": {"end": "2025-04-02"}},
            "2025-04-02",
            "2025-04-02",
        ),
        ({"resourceType": "Condition", "onsetPeriod": {"start": "2024"}}, "2024", None),
        ({"resourceType": "Condition", "onsetString": "childhood"}, None, None),
        ({"resourceType": "Encounter", "period": {"start": "2025-01-10"}}, "2025-01-10", None),
        ({"resourceType": "ImagingStudy", "started": "2025-05-01T09:00:00Z"}, "2025-05-01", None),
        (
            {
                "resourceType": "MedicationRequest",
                "dosageInstruction": [
                    {
                        "timing": {
                            "repeat": {"boundsPeriod": {"start": "2025-01-02", "end": "2025-03"}}
                        }
                    }
                ],
            },
            "2025-01-02",
            "2025-03",
        ),
        ({"resourceType": "Patient"}, None, None),
    ],
)
def test_timing(resource: dict[str, Any], start: str | None, end: str | None) -> None:
    when = timing(resource)
    assert (when.start.text if when.start else None) == start
    assert (when.end.text if when.end else None) == end


def test_recorded_and_abatement_dates() -> None:
    condition = {
        "resourceType": "Condition",
        "recordedDate": "2025-01-05",
        "abatementPeriod": {"start": "2025-02"},
    }
    assert str(recorded_date(condition)) == "2025-01-05"
    assert str(abatement_date(condition)) == "2025-02"
    assert recorded_date({"resourceType": "Procedure"}) is None


# -- dotted paths read straight from the JSON, checked against fhirpathpy ------------------

_VALUES = st.sampled_from(
    [
        "2025-01-02",
        "2024",
        "2025-02-03T10:00:00Z",
        "not a date",
        {"start": "2025-01"},
        {"end": "2025-02-03"},
        {"start": "2025-01-01", "end": "2025-03"},
        {"value": 5, "unit": "d"},
        {"value": 5, "unit": "d", "system": "http://unitsofmeasure.org", "code": "d"},
        {"low": {"value": 1}},
        {"extension": [{"url": "http://example.org/x"}]},
        3,
        [],
    ]
)
_REPEAT = st.dictionaries(
    st.sampled_from(
        ["boundsDuration", "boundsRange", "boundsPeriod", "_boundsDuration", "count", "bounds"]
    ),
    _VALUES,
    max_size=3,
)
_DOSAGE = st.one_of(
    st.builds(lambda r: {"timing": {"repeat": r}}, _REPEAT),
    st.builds(lambda r, s: {"timing": {"repeat": [r, s]}}, _REPEAT, _REPEAT),
    st.builds(lambda r: {"timing": [{"repeat": r}]}, _REPEAT),
    st.just("text"),
    st.just({}),
)
_PERIOD = st.dictionaries(st.sampled_from(["start", "end", "_start", "_end"]), _VALUES, max_size=3)
_REQUESTS = st.builds(
    lambda dosage, period, one: {
        "resourceType": "MedicationRequest",
        "dosageInstruction": dosage[0] if one and dosage else dosage,
        "dispenseRequest": {"validityPeriod": period},
    },
    st.lists(_DOSAGE, max_size=3),
    _PERIOD,
    st.booleans(),
)


def _fhirpath(resource: dict[str, Any], expression: str) -> list[Any]:
    values: list[Any] = fhirpathpy.evaluate(resource, expression, None, R4_MODEL)
    return values


def _as_timing(value: Any) -> tuple[str | None, str | None] | None:
    if isinstance(value, str):
        day = parse_partial_date(value)
        return (day.text, None) if day else None
    if isinstance(value, dict) and ("start" in value or "end" in value):
        start, end = parse_partial_date(value.get("start")), parse_partial_date(value.get("end"))
        if start is None and end is None:
            return None
        return ((start or end).text, end.text if end else None)  # type: ignore[union-attr]
    return None


@settings(max_examples=300, deadline=None)
@given(_REQUESTS)
def test_dotted_paths_read_as_fhirpath_reads_them(request: dict[str, Any]) -> None:
    found = [
        reading
        for value in _fhirpath(request, "dosageInstruction.timing.repeat.bounds")
        if (reading := _as_timing(value)) is not None
    ]
    when = timing(request)
    assert (
        (when.start.text if when.start else None, when.end.text if when.end else None)
        if when.start
        else None
    ) == (found[0] if found else None)
    for which in ("start", "end"):
        expression = f"dispenseRequest.validityPeriod.{which}"
        dates = [parse_partial_date(v) for v in _fhirpath(request, expression)]
        expected = next((d.text for d in dates if d is not None), None)
        read = first_date(request, expression)
        assert (read.text if read else None) == expected


def test_a_choice_element_inside_a_path_is_refused() -> None:
    with pytest.raises(ValueError, match="must be the last step"):
        first_date({"resourceType": "Observation"}, "effective.start")
