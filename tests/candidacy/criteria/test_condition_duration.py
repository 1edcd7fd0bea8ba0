"""Persistent axial pain: onset at least 3 months ago, measured in calendar months."""

from __future__ import annotations

import copy
import json

from plugin.candidacy import CriterionStatus
from plugin.candidacy.partial_dates import add_months
from plugin.candidacy.policy_file import parse_policy, policy_path
from tests.candidacy.chart_builder import (
    SNOMED,
    TODAY,
    ago,
    assess,
    condition,
    good_lumbar_chart,
    observation,
    without,
)

ID = "persistent-axial-pain"


def pain(*conditions: dict[str, object], **extra: object) -> object:
    chart = [*without(good_lumbar_chart(), "lbp"), *conditions]
    return assess(chart, **extra).criterion(ID)  # type: ignore[arg-type]


def test_met_with_the_onset_and_duration_in_the_explanation() -> None:
    result = pain(condition("Chronic low back pain", "lbp", onset="2024-04-15"))
    assert result.status is CriterionStatus.MET
    assert result.explanation == (
        "Chronic low back pain (Condition/lbp) since 2024-04-15: 14 months meets ≥ 3 months."
    )
    assert result.evidence[0].model_dump(exclude_none=True) == {
        "reference": "Condition/lbp",
        "display": "Chronic low back pain",
        "date": "2024-04-15",
        "value": "onset",
    }


def test_exactly_three_months_is_enough_one_day_less_is_not() -> None:
    exactly = add_months(TODAY, -3).isoformat()
    assert pain(condition("Low back pain", "c", onset=exactly)).status is CriterionStatus.MET
    day_later = add_months(TODAY, -3).replace(day=16).isoformat()
    short = pain(condition("Low back pain", "c", onset=day_later))
    assert short.status is CriterionStatus.NOT_MET
    assert short.explanation.endswith("since 2025-03-16: 13 weeks is less than 3 months.")
    assert short.resolve == "Re-assess when the pain has lasted 3 months (from 2025-06-16)."


def test_a_month_only_onset_that_decides_is_unknown() -> None:
    # 2025-03 is 1 March (3 months ago) or 31 March (2 months ago).
    result = pain(condition("Low back pain", "c", onset="2025-03"))
    assert result.status is CriterionStatus.UNKNOWN
    assert "charted only to the month" in result.explanation
    assert result.resolve == "Record the exact onset date of Low back pain (Condition/c)."


def test_a_year_only_onset_long_enough_either_way_is_met() -> None:
    assert pain(condition("Low back pain", "c", onset="2024")).status is CriterionStatus.MET


def test_the_recorded_date_stands_in_for_a_missing_onset() -> None:
    result = pain(condition("Lumbar disc disorder", "c", recorded="2024-12-01"))
    assert result.status is CriterionStatus.MET
    assert "recorded 2024-12-01 (no onset date charted)" in result.explanation


def test_an_undated_condition_is_unknown() -> None:
    result = pain(condition("Low back pain", "c"))
    assert result.status is CriterionStatus.UNKNOWN
    assert result.resolve == "Record when the pain began (the condition's onset date)."


def test_coded_condition_without_text_matches_by_its_display() -> None:
    coded = condition("x", "c", onset="2024-01-01")
    coded["code"] = {
        "coding": [{"system": SNOMED, "code": "279039007", "display": "Low back pain"}]
    }
    assert pain(coded).status is CriterionStatus.MET


def test_abated_and_inactive_conditions_do_not_count() -> None:
    abated = condition("Low back pain", "a", onset="2024-01-01", abatement=ago(10), clinical=None)
    inactive = condition("Low back pain", "b", onset="2024-01-01", clinical="inactive")
    result = pain(abated, inactive)
    assert result.status is CriterionStatus.UNKNOWN
    assert result.evidence == ()


def test_a_condition_of_another_region_is_named_but_not_counted() -> None:
    result = pain(condition("Chronic neck pain", "neck", onset="2023-01-01"))
    assert result.status is CriterionStatus.UNKNOWN
    assert result.explanation == (
        "No active back or neck pain or disc disorder of the lumbar region is on the problem "
        "list (Chronic neck pain (Condition/neck) is in another region)."
    )


def test_pain_scores_are_supporting_evidence() -> None:
    scores = [
        observation(f"s{i}", loinc="72514-3", when=ago(30 * i), value=v)
        for i, v in enumerate([8, 7, 6, 9])
    ]
    result = pain(condition("Low back pain", "c", onset="2024-01-01"), *scores)
    values = [(e.reference, e.value) for e in result.evidence[1:]]
    assert values == [
        ("Observation/s0", "8/10"),
        ("Observation/s1", "7/10"),
        ("Observation/s2", "6/10"),
    ]


def test_a_site_can_read_absence_as_not_met() -> None:
    data = json.loads(policy_path().read_text(encoding="utf-8"))
    site = copy.deepcopy(data)
    site["criteria"][0]["when_absent"] = "not-met"
    result = pain(policy=parse_policy(site))
    assert result.status is CriterionStatus.NOT_MET


def test_an_onset_at_the_calendars_end_is_not_met_without_error() -> None:
    result = pain(condition("Low back pain", "c", onset="9999-12-31"))
    assert result.status is CriterionStatus.NOT_MET
    assert result.resolve == "Re-assess when the pain has lasted 3 months (from 9999-12-31)."


def test_a_recent_recorded_date_without_onset_is_unknown_not_not_met() -> None:
    # The pain existed at least since it was recorded, perhaps for years before.
    result = pain(condition("Chronic low back pain", "lbp", recorded=ago(10)))
    assert result.status is CriterionStatus.UNKNOWN
    assert result.resolve == "Record when the pain began (the condition's onset date)."


def test_an_onset_string_is_shown_and_not_called_missing() -> None:
    record = condition("Chronic low back pain", "lbp", recorded=ago(10))
    record["onsetString"] = "since 2019"
    result = pain(record)
    assert result.status is CriterionStatus.UNKNOWN
    assert "since 2019" in result.explanation
    assert "no onset date" not in result.explanation
    assert result.evidence[0].value == 'recorded date (onset charted as "since 2019")'


def test_an_onset_age_is_dated_from_the_birth_date() -> None:
    record = condition("Chronic low back pain", "lbp")
    record["onsetAge"] = {
        "value": 40,
        "unit": "years",
        "system": "http://unitsofmeasure.org",
        "code": "a",
    }
    result = pain(record)  # the chart's patient is born well over 41 years ago
    assert result.status is CriterionStatus.MET
    assert "age 40" in result.explanation
