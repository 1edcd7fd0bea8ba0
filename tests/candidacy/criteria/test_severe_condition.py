"""No severe spinal stenosis with obstruction: severity read from the chart's words."""

from __future__ import annotations

import pytest

from plugin.candidacy import CriterionStatus
from tests.candidacy.chart_builder import ago, assess, condition, good_lumbar_chart

ID = "no-severe-stenosis"


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"text": "Lumbar spinal stenosis, moderate to severe"}, CriterionStatus.NOT_MET),
        (
            {"text": "Spinal stenosis of lumbar region", "severity": "Severe"},
            CriterionStatus.NOT_MET,
        ),
        (
            {"text": "Lumbar canal stenosis", "note": "MRI: critical stenosis at L4-L5"},
            CriterionStatus.NOT_MET,
        ),
        ({"text": "Lumbar foraminal stenosis", "severity": "Moderate"}, CriterionStatus.MET),
        ({"text": "Lumbar spinal stenosis"}, CriterionStatus.UNKNOWN),
        ({"text": "Aortic stenosis, severe"}, CriterionStatus.MET),  # not spinal
    ],
)
def test_severity_from_text(kwargs: dict[str, str], status: CriterionStatus) -> None:
    text = kwargs.pop("text")
    chart = [*good_lumbar_chart(), condition(text, "st", onset=ago(300), **kwargs)]  # type: ignore[arg-type]
    assert assess(chart).criterion(ID).status is status


def test_notes_of_the_wrong_type_read_as_absent() -> None:
    stenosis = condition("Lumbar spinal stenosis", "st", onset=ago(300))
    stenosis["note"] = 5
    assert assess([*good_lumbar_chart(), stenosis]).criterion(ID).status is CriterionStatus.UNKNOWN


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("Lumbar spinal stenosis, mild; no severe stenosis", CriterionStatus.MET),
        ("Lumbar spinal stenosis without myelopathy", CriterionStatus.UNKNOWN),  # no severity
        ("Lumbar spinal stenosis, severe, without myelopathy", CriterionStatus.NOT_MET),
    ],
)
def test_negated_severe_words_do_not_make_a_stenosis_severe(
    text: str, status: CriterionStatus
) -> None:
    chart = [*good_lumbar_chart(), condition(text, "st", onset=ago(300))]
    assert assess(chart).criterion(ID).status is status


def test_no_problem_list_at_all_is_unknown() -> None:
    chart = [r for r in good_lumbar_chart() if r["resourceType"] != "Condition"]
    result = assess(chart).criterion(ID)
    assert result.status is CriterionStatus.UNKNOWN
    assert "no problem list" in result.explanation
