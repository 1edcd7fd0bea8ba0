"""Labs before the procedure: kidney function always, clotting labs with a clotting risk, the
30-day window and the action ranges at their exact boundaries."""

from __future__ import annotations

from datetime import date

import pytest

from plugin.candidacy import SafetyItem, SafetyKind, assess_candidacy, chart_from_resources
from plugin.candidacy.chart import Chart
from tests.candidacy.chart_builder import (
    BOTH,
    LUMBAR,
    TODAY,
    ago,
    assess,
    egfr,
    good_lumbar_chart,
    inr,
    med_request,
    med_statement,
    observation,
    platelets,
    without,
)


def items(*resources: dict[str, object], drop: tuple[str, ...] = ()) -> dict[str, SafetyItem]:
    chart = [*without(good_lumbar_chart(), *drop), *resources]
    return {item.id: item for item in assess(chart).safety}  # type: ignore[arg-type]


def test_a_missing_kidney_function_suggests_the_egfr_to_order() -> None:
    item = items(drop=("egfr-1",))["lab-kidney-function"]
    assert (item.kind, item.severity.value) == (SafetyKind.LAB_MISSING, "action")
    assert item.suggested_order is not None
    assert item.suggested_order.model_dump() == {
        "system": "http://loinc.org",
        "code": "98979-8",
        "text": "eGFR (CKD-EPI 2021)",
    }
    assert item.explanation == (
        "No Kidney function (eGFR or creatinine) result is in the chart; one is needed within "
        "30 days before the procedure."
    )


@pytest.mark.parametrize(("days", "fresh"), [(30, True), (31, False)])
def test_the_thirty_day_window(days: int, fresh: bool) -> None:
    found = items(egfr(80, days_ago=days), drop=("egfr-1",))
    assert ("lab-kidney-function" not in found) is fresh
    if not fresh:
        item = found["lab-kidney-function"]
        assert item.kind is SafetyKind.LAB_OUT_OF_DATE
        assert "is 31 days old" in item.explanation


@pytest.mark.parametrize(("value", "flagged"), [(30.0, False), (29.9, True)])
def test_egfr_30_is_enough_and_29_9_is_not(value: float, flagged: bool) -> None:
    found = items(egfr(value), drop=("egfr-1",))
    assert ("lab-egfr-out-of-range" in found) is flagged
    if flagged:
        assert found["lab-egfr-out-of-range"].explanation == (
            "eGFR (CKD-EPI 2021) (Observation/egfr-1): 29.9 mL/min/1.73 m² on 2025-06-10 is "
            "< 30 mL/min/1.73 m²."
        )


@pytest.mark.parametrize(("value", "flagged"), [(1.5, False), (1.6, True)])
def test_inr_1_5_is_fine_and_1_6_is_not(value: float, flagged: bool) -> None:
    assert ("lab-inr-out-of-range" in items(inr(value))) is flagged


@pytest.mark.parametrize(("value", "flagged"), [(100, False), (99, True)])
def test_platelets_100_are_fine_and_99_are_not(value: float, flagged: bool) -> None:
    assert ("lab-platelets-out-of-range" in items(platelets(value))) is flagged


def test_a_stale_out_of_range_value_is_out_of_date_not_out_of_range() -> None:
    found = items(egfr(20, days_ago=60), drop=("egfr-1",))
    assert "lab-egfr-out-of-range" not in found
    assert found["lab-kidney-function"].kind is SafetyKind.LAB_OUT_OF_DATE


def test_the_newest_result_decides() -> None:
    found = items(
        egfr(25, days_ago=20, oid="old"), egfr(45, days_ago=2, oid="new"), drop=("egfr-1",)
    )
    assert "lab-egfr-out-of-range" not in found


@pytest.mark.parametrize(
    ("value", "ucum", "shown"),
    [
        (1.1, "mg/dL", "1.1 mg/dL"),
        (6.0, "mg/dL", "6 mg/dL"),
        (600, "umol/L", "6.79 mg/dL (charted 600 umol/L)"),
    ],
)
def test_creatinine_alone_cannot_be_judged_and_asks_for_an_egfr(
    value: float, ucum: str, shown: str
) -> None:
    # clinical.md §4: kidney function before contrast; the policy's limit is on eGFR, and no
    # creatinine threshold is cited, so a creatinine alone (normal or not) leaves it unjudged.
    creatinine = observation("cr", loinc="2160-0", when=ago(3), value=value, ucum=ucum)
    found = items(creatinine, drop=("egfr-1",))
    item = found["lab-kidney-function-note"]
    assert (item.kind, item.severity.value) == (SafetyKind.LAB_NOTE, "action")
    assert item.explanation == (
        f"Creatinine, serum/plasma (Observation/cr): {shown} on 2025-06-12 is recent, but the "
        "policy's limit is on eGFR (action when eGFR < 30 mL/min/1.73 m²) and no eGFR is "
        "reported: this result cannot show whether the limit is met, so eGFR is needed before "
        "the procedure."
    )
    assert item.action == "Order eGFR (CKD-EPI 2021) (LOINC 98979-8) before the procedure."
    assert "lab-kidney-function" not in found  # recent: not missing or out of date


def test_a_bound_that_leaves_the_range_open_cannot_be_read() -> None:
    found = items(
        observation("e", loinc="98979-8", when=ago(2), value_string=">20"), drop=("egfr-1",)
    )
    item = found["lab-egfr-unreadable"]
    assert (item.kind, item.severity.value) == (SafetyKind.LAB_UNREADABLE, "action")
    assert item.explanation.endswith(
        "> 20 mL/min/1.73 m² cannot be compared with < 30 mL/min/1.73 m²."
    )


def test_clotting_labs_name_why_they_are_needed() -> None:
    found = items(med_request("warfarin 5 mg", "w", authored=ago(300)))
    inr_item = found["lab-inr"]
    assert inr_item.explanation == (
        "No INR (or prothrombin time) result is in the chart; one is needed within 30 days "
        "before the procedure because the patient takes warfarin."
    )
    assert inr_item.suggested_order is not None and inr_item.suggested_order.code == "6301-6"
    assert [e.reference for e in inr_item.evidence] == ["MedicationRequest/w"]
    assert found["lab-platelets"].suggested_order.code == "777-3"  # type: ignore[union-attr]


def test_a_prothrombin_time_alone_cannot_be_judged_against_the_inr_limit() -> None:
    pt = observation("pt", loinc="5902-2", when=ago(3), value=12.5, ucum="s")
    found = items(med_request("warfarin", "w", authored=ago(300)), pt, platelets(200))
    assert "lab-inr" not in found
    item = found["lab-inr-note"]
    assert item.severity.value == "action"
    assert "the policy's limit is on INR (action when INR > 1.5)" in item.explanation


def test_a_recent_anticoagulant_with_no_end_needs_clotting_labs() -> None:
    # A completed prescription was carried out (dispensed); it does not say the patient stopped.
    found = items(med_request("apixaban 5 mg tablet", "apx", status="completed", authored=ago(10)))
    assert found["lab-inr"].explanation == (
        "No INR (or prothrombin time) result is in the chart; one is needed within 30 days "
        "before the procedure because the patient may still take apixaban (the chart does not "
        "say when apixaban 5 mg tablet (MedicationRequest/apx) was stopped)."
    )
    assert "lab-platelets" in found
    # One dispensed for 30 days ended by its supply: the lab is not needed.
    supplied = med_request("apixaban", "apx", status="completed", authored=ago(60), supply_days=30)
    assert "lab-inr" not in items(supplied)


def test_a_course_with_no_end_settled_by_a_later_stop_needs_no_clotting_labs() -> None:
    found = items(
        med_request("apixaban 5 mg tablet", "old", status="completed", authored=ago(60)),
        med_statement("apixaban 5 mg tablet", "st", status="stopped", start=ago(60), end=ago(20)),
    )
    assert not {"lab-inr", "lab-platelets"} & set(found)


def test_a_chart_read_from_a_day_on_says_so_when_a_lab_is_missing() -> None:
    # The CDS services read dated Observations from the policy's horizon on: "none in the
    # chart" would be false when an older result was left on the server.
    chart = chart_from_resources(
        without(good_lumbar_chart(), "egfr-1"), observations_from=date(2025, 6, 5)
    )
    item = assessed_items(chart)["lab-kidney-function"]
    assert item.explanation == (
        "No Kidney function (eGFR or creatinine) result dated from 2025-06-05 on was read "
        "(older ones cannot count); one is needed within 30 days before the procedure."
    )


def assessed_items(chart: Chart) -> dict[str, SafetyItem]:
    assessment = assess_candidacy(chart, today=TODAY, order=LUMBAR, attestations=BOTH)
    return {item.id: item for item in assessment.safety}
