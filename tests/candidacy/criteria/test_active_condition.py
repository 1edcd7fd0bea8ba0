"""No active infection: an active infection fails; a recent antibiotic needs review."""

from __future__ import annotations

from datetime import timedelta

from plugin.candidacy import CriterionStatus
from tests.candidacy.chart_builder import (
    TODAY,
    ago,
    assess,
    condition,
    good_lumbar_chart,
    med_request,
    med_statement,
)

ID = "no-active-infection"


def infection(*resources: dict[str, object]) -> object:
    return assess([*good_lumbar_chart(), *resources]).criterion(ID)  # type: ignore[arg-type]


def test_an_active_infection_is_not_met() -> None:
    result = infection(condition("Urinary tract infection", "uti", onset=ago(3)))
    assert result.status is CriterionStatus.NOT_MET
    assert result.explanation == (
        "Urinary tract infection (Condition/uti) is active on the problem list (an absolute "
        "contraindication)."
    )


def test_the_antibiotic_window_is_fourteen_days() -> None:
    edge = (TODAY - timedelta(days=14)).isoformat()
    within = infection(
        med_statement("doxycycline 100 mg", "abx", status="completed", start=ago(20), end=edge)
    )
    assert within.status is CriterionStatus.UNKNOWN
    assert (
        "doxycycline 100 mg (MedicationStatement/abx) was taken in the last 14 days"
        in within.explanation
    )
    assert within.resolve == (
        "Review why the antibiotic was given and confirm there is no active infection."
    )
    before = (TODAY - timedelta(days=15)).isoformat()
    assert (
        infection(
            med_statement("doxycycline", "abx", status="completed", start=ago(20), end=before)
        ).status
        is CriterionStatus.MET
    )


def test_an_ongoing_antibiotic_prescription_needs_review() -> None:
    result = infection(med_request("Keflex 500 mg capsule", "abx", authored=ago(60)))
    assert result.status is CriterionStatus.UNKNOWN


def test_nothing_charted_is_met() -> None:
    result = infection()
    assert result.status is CriterionStatus.MET
    assert result.explanation == (
        "No active infection is on the problem list and no antibiotic course in the last 14 days."
    )


def test_chronic_viral_infections_and_history_entries_are_not_counted() -> None:
    result = infection(
        condition("Chronic hepatitis C infection", "hcv", onset="2010-01-01"),
        condition("History of urinary tract infection", "old-uti", onset="2019-01-01"),
    )
    assert result.status is CriterionStatus.MET
