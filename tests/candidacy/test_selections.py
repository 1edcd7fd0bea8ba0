"""FHIRPath selections: when a record happened, across the choice types of each resource."""

from __future__ import annotations

from typing import Any

import pytest

from plugin.candidacy.selections import abatement_date, recorded_date, timing


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
