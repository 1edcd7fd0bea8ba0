"""Failed conservative care: documented care measured from its dates, physical therapy and
medication both required, compared with ≥ 3 months."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

from plugin.candidacy import CriterionStatus
from plugin.candidacy.partial_dates import add_months
from plugin.candidacy.policy_file import parse_policy, policy_path
from tests.candidacy.chart_builder import (
    CERVICAL,
    PATIENT,
    TODAY,
    ago,
    assess,
    condition,
    egfr,
    med_request,
    med_statement,
    mri_report,
    patient,
    procedure,
    pt_sessions,
)

ID = "failed-conservative-care"
SHIPPED: dict[str, Any] = json.loads(policy_path().read_text(encoding="utf-8"))


def care(*resources: dict[str, Any], **extra: Any) -> Any:
    base = [
        patient(),
        condition("Chronic low back pain", "lbp", onset="2023-01-01"),
        mri_report(when=ago(30)),
        egfr(90),
    ]
    return assess([*base, *resources], **extra).criterion(ID)


def test_the_brief_example_explains_the_union_of_care() -> None:
    result = care(
        procedure(
            "pt-1", cpt="97110", text="Physical therapy", period=("2025-01-10", "2025-04-02")
        ),
        med_statement(
            "naproxen 500 mg tablet", "nap", status="completed", start="2025-01", end="2025-06"
        ),
    )
    assert result.status is CriterionStatus.MET
    assert result.explanation == (
        "Physical therapy 2025-01-10 → 2025-04-02 (more than 11 weeks) and naproxen "
        "2025-01 → 2025-06 (5 months): 5 months of documented care (2025-01-01 → 2025-06-01) "
        "meets ≥ 3 months."
    )
    assert [(e.reference, e.value) for e in result.evidence] == [
        ("MedicationStatement/nap", "naproxen"),
        ("Procedure/pt-1", "Physical therapy"),
    ]
    assert result.evidence[0].period is not None
    assert (result.evidence[0].period.start, result.evidence[0].period.end) == (
        "2025-01",
        "2025-06",
    )


def test_exactly_three_months_meets_one_day_less_does_not() -> None:
    start = add_months(TODAY, -3) - timedelta(days=10)
    end = add_months(start, 3)
    exactly = care(
        procedure("pt", cpt="97140", period=(start.isoformat(), end.isoformat())),
        med_statement(
            "ibuprofen", "ibu", status="completed", start=start.isoformat(), end=end.isoformat()
        ),
    )
    assert exactly.status is CriterionStatus.MET
    short_end = (end - timedelta(days=1)).isoformat()
    short = care(
        procedure("pt", cpt="97140", period=(start.isoformat(), short_end)),
        med_statement(
            "ibuprofen", "ibu", status="completed", start=start.isoformat(), end=short_end
        ),
    )
    assert short.status is CriterionStatus.NOT_MET
    assert "is less than 3 months" in short.explanation
    assert short.resolve == f"Re-assess when care has lasted 3 months (from {end.isoformat()})."


def test_partial_dates_that_decide_make_it_unknown() -> None:
    # Nominal: 1 March → 10 June (3 months); strict: 20 March → 10 June (2 months).
    sessions = [
        procedure(f"pt-{i}", cpt="97110", performed=f"2025-{d}")
        for i, d in enumerate(("03-20", "04-20", "05-20", "06-10"))
    ]
    result = care(
        *sessions,
        med_statement("naproxen", "nap", status="completed", start="2025-03", end="2025-06"),
    )
    assert result.status is CriterionStatus.UNKNOWN
    assert "cannot be decided" in result.explanation
    assert result.resolve is not None and result.resolve.startswith(
        "Record the exact start and end dates"
    )


def test_both_kinds_are_required() -> None:
    no_drug = care(*pt_sessions(200, 20))
    assert no_drug.status is CriterionStatus.NOT_MET
    assert "has no medication (NSAID or analgesic)" in no_drug.explanation
    assert no_drug.resolve == "Document medication (NSAID or analgesic)."
    no_pt = care(med_request("naproxen", "nap", authored=ago(300)))
    assert no_pt.status is CriterionStatus.NOT_MET
    assert "has no physical therapy" in no_pt.explanation


def test_care_separated_by_a_long_gap_is_not_added_up() -> None:
    result = care(
        *pt_sessions(700, 4, prefix="old"),  # 2023: one month of physical therapy
        med_statement("naproxen", "nap", status="completed", start=ago(60), end=ago(5)),
        *pt_sessions(60, 8),
    )
    assert result.status is CriterionStatus.NOT_MET
    assert "counted as separate spans; this is the longest" in result.explanation


def test_completed_referrals_and_visits_count_open_orders_do_not() -> None:
    referral = {
        "resourceType": "ServiceRequest",
        "id": "sr",
        "status": "completed",
        "intent": "order",
        "subject": {"reference": PATIENT},
        "code": {"text": "Physical therapy referral"},
        "occurrencePeriod": {"start": ago(200), "end": ago(90)},
    }
    drug = med_statement("acetaminophen 500 mg", "apap", start=ago(200))
    assert care(referral, drug).status is CriterionStatus.MET
    assert care(referral | {"status": "active"}, drug).status is CriterionStatus.NOT_MET
    visit = {
        "resourceType": "Encounter",
        "id": "e1",
        "status": "finished",
        "subject": {"reference": PATIENT},
        "type": [{"text": "Physiotherapy visit"}],
        "period": {"start": ago(150), "end": ago(150)},
    }
    later = visit | {"id": "e2", "period": {"start": ago(20)}}
    assert care(visit, later, drug).status is CriterionStatus.MET


def test_chiropractic_counts_toward_time_but_not_as_physical_therapy() -> None:
    drug = med_statement("ibuprofen", "ibu", start=ago(200))
    chiro = [procedure(f"ch-{i}", cpt="98940", performed=ago(180 - 20 * i)) for i in range(9)]
    assert care(*chiro, drug).status is CriterionStatus.NOT_MET
    site = copy.deepcopy(SHIPPED)
    site["criteria"][1]["required"][0]["any_of"] = ["physical-therapy", "chiropractic"]
    assert care(*chiro, drug, policy=parse_policy(site)).status is CriterionStatus.MET


def test_a_site_may_ask_for_longer_care() -> None:
    site = copy.deepcopy(SHIPPED)
    site["criteria"][1]["min_duration_months"] = 6
    resources = (*pt_sessions(150, 20), med_request("naproxen", "nap", authored=ago(150)))
    assert care(*resources).status is CriterionStatus.MET
    longer = care(*resources, policy=parse_policy(site))
    assert longer.status is CriterionStatus.NOT_MET
    assert "is less than 6 months" in longer.explanation


def test_a_finished_prescription_lasts_its_supply_times_its_fills() -> None:
    # 30 days × (1 + 2 repeats) from 150 days ago: 90 days of naproxen, with 5 months of PT.
    drug = med_request(
        "naproxen", "nap", status="completed", authored=ago(150), supply_days=30, repeats=2
    )
    result = care(*pt_sessions(150, 20), drug)
    assert result.status is CriterionStatus.MET
    assert "naproxen 2025-01-16 → 2025-04-16 (3 months)" in result.explanation


def test_no_care_at_all_is_unknown() -> None:
    result = care()
    assert result.status is CriterionStatus.UNKNOWN
    assert result.resolve == (
        "Attach the records of conservative care (physical therapy and medication (NSAID or "
        "analgesic)) with their dates."
    )


def test_care_ending_at_the_calendars_end_is_merged_without_error() -> None:
    # Some EHRs chart an open course as ending 9999-12-31.
    result = care(
        *pt_sessions(150, 12),
        med_statement("naproxen", "nap", status="completed", start=ago(150), end="9999-12-31"),
        med_statement("ibuprofen", "ibu", status="completed", start=ago(100), end=ago(50)),
    )
    assert result.status is CriterionStatus.MET


def test_a_statement_dated_only_by_its_recording_day_is_unknown_not_not_met() -> None:
    # The patient may have taken naproxen for a year before the statement was recorded.
    result = care(*pt_sessions(200, 15), med_statement("naproxen 500 mg", "n", asserted=ago(1)))
    assert result.status is CriterionStatus.UNKNOWN
    assert "dated only by the day the statement was recorded" in result.explanation
    assert "MedicationStatement/n" in result.explanation
    assert result.resolve == (
        "Record when the medication was started (the statement's effective date)."
    )


def test_physical_therapy_of_another_region_does_not_count_for_the_order() -> None:
    sessions = pt_sessions(200, 15)
    for session in sessions:
        session["code"]["text"] = "Physical therapy, lumbar spine"
    result = care(
        *sessions,
        med_statement("naproxen", "n", status="completed", start=ago(200), end=ago(90)),
        order=CERVICAL,
    )
    assert result.status is CriterionStatus.NOT_MET
    assert "has no physical therapy" in result.explanation
    assert "of the lumbar region are not counted for this cervical order" in result.explanation


def test_physical_therapy_naming_no_region_still_counts() -> None:
    result = care(
        *pt_sessions(200, 15),
        med_statement("naproxen", "n", status="completed", start=ago(200), end=ago(90)),
        order=CERVICAL,
    )
    assert result.status is CriterionStatus.MET


def test_care_known_only_by_words_under_an_unlisted_code_is_never_not_met_alone() -> None:
    # CPT 97530 is not in the policy; its words say physical therapy.
    sessions = pt_sessions(60, 3, cpt="97530")
    for session in sessions:
        session["code"]["text"] = "Physical therapy session"
    result = care(*sessions, med_statement("naproxen", "n", start=ago(60)))
    assert result.status is CriterionStatus.UNKNOWN
    assert "recognised only by its words" in result.explanation
