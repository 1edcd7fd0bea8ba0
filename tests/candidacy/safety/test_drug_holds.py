"""Drugs to hold: hold days from the table, the quoted ranges, the INR check for warfarin,
recently stopped drugs, and how drugs are recognised in the chart."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from plugin.candidacy import SafetyItem, SafetyKind
from plugin.candidacy.policy_file import default_policy
from tests.candidacy.chart_builder import (
    ago,
    assess,
    good_lumbar_chart,
    med_request,
    med_statement,
)


def items(*resources: dict[str, Any], order: Any = None) -> dict[str, SafetyItem]:
    extra = {"order": order} if order is not None else {}
    return {i.id: i for i in assess([*good_lumbar_chart(), *resources], **extra).safety}


@pytest.mark.parametrize(
    ("text", "item_id", "days", "quoted"),
    [
        ("clopidogrel 75 mg tablet", "drug-hold-clopidogrel", 7, None),
        ("Effient 10 mg", "drug-hold-prasugrel", 10, (7, 10)),
        ("ticagrelor 90 mg", "drug-hold-ticagrelor", 5, None),
        ("dabigatran etexilate 150 mg capsule", "drug-hold-dabigatran", 5, (4, 5)),
        ("XARELTO 20 MG TABLET", "drug-hold-rivaroxaban", 3, None),
        ("edoxaban 60 mg", "drug-hold-edoxaban", 3, None),
        ("enoxaparin 80 mg/0.8 mL injection", "drug-hold-enoxaparin", 1, None),
    ],
)
def test_hold_days_from_the_table(
    text: str, item_id: str, days: int, quoted: tuple[int, int] | None
) -> None:
    item = items(med_request(text, "m1", authored=ago(100)))[item_id]
    assert (item.kind, item.severity.value, item.hold_days, item.hold_range_days) == (
        SafetyKind.DRUG_HOLD,
        "action",
        days,
        quoted,
    )
    assert "The prescriber must confirm that stopping is safe" in (item.action or "")


def test_the_action_shows_the_range_and_that_it_is_to_verify() -> None:
    item = items(med_request("prasugrel 10 mg", "m1", authored=ago(100)))["drug-hold-prasugrel"]
    assert item.action is not None
    assert item.action.startswith(
        "Hold prasugrel for 10 days (quoted range 7–10 days; the policy uses 10) (hold period to "
        "verify) before the procedure."
    )
    assert item.title == "Hold prasugrel 10 days"


def test_lmwh_is_held_24_hours() -> None:
    item = items(med_request("Lovenox 40 mg", "m1", authored=ago(10)))["drug-hold-enoxaparin"]
    assert item.title == "Hold enoxaparin 24 hours"
    assert item.action is not None and "for 24 hours (therapeutic dose)" in item.action


def test_warfarin_asks_for_a_normal_inr() -> None:
    item = items(med_request("warfarin sodium 5 mg", "w", authored=ago(100)))["drug-hold-warfarin"]
    assert item.action is not None
    assert "and confirm the INR is no longer > 1.5 before it." in item.action
    assert item.suggested_order is not None and item.suggested_order.code == "6301-6"


def test_the_explanation_names_the_record_the_class_and_the_bleeding_risk() -> None:
    item = items(med_request("apixaban 5 mg oral tablet", "apx", authored="2024-05-11"))[
        "drug-hold-apixaban"
    ]
    assert item.explanation == (
        "Direct factor Xa inhibitor: apixaban 5 mg oral tablet (MedicationRequest/apx), active "
        "since 2024-05-11. Lumbar disc access is a low bleeding-risk procedure."
    )
    assert [(e.reference, e.period.start if e.period else None) for e in item.evidence] == [
        ("MedicationRequest/apx", "2024-05-11")
    ]


def test_a_drug_stopped_within_its_hold_period_still_counts() -> None:
    stopped = med_statement("clopidogrel", "c", status="stopped", start=ago(300), end=ago(2))
    item = items(stopped)["drug-hold-clopidogrel"]
    assert item.explanation.endswith(
        "The last documented day is 2025-06-13, so the hold (7 days without clopidogrel) is "
        "complete from 2025-06-21."
    )
    long_stopped = med_statement("clopidogrel", "c", status="stopped", start=ago(300), end=ago(8))
    assert "drug-hold-clopidogrel" not in items(long_stopped)


def test_an_active_prescription_stays_current_past_its_validity_period() -> None:
    request = med_request("apixaban 5 mg", "apx", authored=ago(400), validity=(ago(400), ago(35)))
    assert "drug-hold-apixaban" in items(request)


def test_drugs_are_recognised_through_medication_references() -> None:
    medication = {
        "resourceType": "Medication",
        "id": "med",
        "code": {"text": "Eliquis 5 mg tablet"},
    }
    by_reference = med_request("x", "r1", authored=ago(10))
    del by_reference["medicationCodeableConcept"]
    by_reference["medicationReference"] = {"reference": "Medication/med"}
    assert "drug-hold-apixaban" in items(medication, by_reference)
    contained = med_request("x", "r2", authored=ago(10))
    del contained["medicationCodeableConcept"]
    contained["contained"] = [
        {"resourceType": "Medication", "id": "m", "code": {"text": "warfarin 2 mg"}}
    ]
    contained["medicationReference"] = {"reference": "#m"}
    assert "drug-hold-warfarin" in items(contained)


def test_names_match_as_whole_words_only() -> None:
    assert not any(
        i.startswith("drug-hold") for i in items(med_request("Heparin flush", "h", authored=ago(1)))
    )


def test_a_proposal_nobody_acted_on_is_ignored() -> None:
    assert "drug-hold-apixaban" not in items(
        med_request("apixaban", "p", authored=ago(1), intent="proposal")
    )


def test_an_nsaid_is_information_only() -> None:
    item = items()["drug-note-naproxen"]
    assert (item.kind, item.severity.value, item.hold_days) == (SafetyKind.DRUG_NOTE, "info", None)
    assert (
        item.action is not None
        and "this policy sets no NSAID hold period (to verify)" in item.action
    )


def test_a_combination_product_gives_one_course_per_ingredient() -> None:
    found = items(
        med_statement("hydrocodone/acetaminophen 5/325 mg and clopidogrel", "combo", start=ago(30))
    )
    assert "drug-hold-clopidogrel" in found


@pytest.mark.parametrize(
    ("record", "why"),
    [
        (
            med_request("apixaban 5 mg tablet", "apx", status="completed", authored=ago(10)),
            "a completed prescription was carried out, for example dispensed, which does not "
            "mean the patient stopped taking it",
        ),
        (
            med_request("apixaban 5 mg tablet", "apx", status="unknown", authored=ago(10)),
            "its status is unknown",
        ),
        (
            med_statement("apixaban 5 mg tablet", "apx", status="unknown", start=ago(10)),
            "its status is unknown",
        ),
        (
            med_statement("apixaban 5 mg tablet", "apx", status="completed", start=ago(10)),
            "the patient finished it on a day the chart does not give",
        ),
    ],
)
def test_a_recent_course_with_no_end_is_held_until_the_last_dose_is_confirmed(
    record: dict[str, Any], why: str
) -> None:
    item = items(record)["drug-hold-apixaban"]
    kind = record["resourceType"]
    assert (item.kind, item.severity.value, item.hold_days) == (SafetyKind.DRUG_HOLD, "action", 3)
    assert item.explanation == (
        f"Direct factor Xa inhibitor: apixaban 5 mg tablet ({kind}/apx), {record['status']}, "
        "from 2025-06-05, no end recorded. Lumbar disc access is a low bleeding-risk "
        "procedure. The chart does not say when apixaban was last taken "
        f"({kind}/apx: {why}, and it gives no end date or supply duration): the last dose "
        "may be within the hold period."
    )
    assert item.action is not None
    assert item.action.startswith(
        "Confirm when the patient last took apixaban. Hold apixaban for 3 days"
    )
    assert [e.reference for e in item.evidence] == [f"{kind}/apx"]


def test_a_course_with_no_end_counts_within_the_policy_window_only() -> None:
    window = default_policy().end_unknown_recent_days
    assert window == 90
    recent = med_request("clopidogrel", "c", status="completed", authored=ago(window))
    assert "drug-hold-clopidogrel" in items(recent)
    old = med_request("clopidogrel", "c", status="completed", authored=ago(window + 1))
    assert "drug-hold-clopidogrel" not in items(old)


def test_a_known_supply_or_end_still_decides() -> None:
    supplied = med_request(
        "apixaban", "apx", status="completed", authored=ago(40), supply_days=30
    )  # supply ended 10 days ago: the 3-day hold is complete
    assert "drug-hold-apixaban" not in items(supplied)
    ended = med_statement("apixaban", "apx", status="completed", start=ago(40), end=ago(10))
    assert "drug-hold-apixaban" not in items(ended)


def test_a_later_record_that_gives_the_stop_date_settles_a_course_with_no_end() -> None:
    # Dispensed 60 days ago with no end; the patient's statement says stopped 20 days ago.
    stopped_later = items(
        med_request("apixaban 5 mg tablet", "old", status="completed", authored=ago(60)),
        med_statement("apixaban 5 mg tablet", "st", status="stopped", start=ago(60), end=ago(20)),
    )
    assert not {"drug-hold-apixaban", "lab-inr", "lab-platelets"} & set(stopped_later)
    # Prescribed again 60 days ago for 30 days: that supply ended 30 days ago.
    renewed = items(
        med_request("warfarin 5 mg", "old", status="completed", authored=ago(80)),
        med_request("warfarin 5 mg", "new", status="completed", authored=ago(60), supply_days=30),
    )
    assert not {"drug-hold-warfarin", "lab-inr", "lab-platelets"} & set(renewed)


def test_a_later_record_within_its_hold_is_the_one_cited() -> None:
    item = items(
        med_request("apixaban 5 mg tablet", "old", status="completed", authored=ago(60)),
        med_statement("apixaban 5 mg tablet", "st", status="stopped", start=ago(60), end=ago(2)),
    )["drug-hold-apixaban"]
    assert [e.reference for e in item.evidence] == ["MedicationStatement/st"]
    assert item.explanation.endswith(
        "The last documented day is 2025-06-13, so the hold (3 days without apixaban) is "
        "complete from 2025-06-17."
    )
    assert item.action is not None and item.action.startswith("Hold apixaban for 3 days")


def test_a_course_with_no_end_and_no_later_record_is_still_held() -> None:
    # The only other record ended before this prescription: nothing says when it was stopped.
    item = items(
        med_statement("apixaban", "earlier", status="stopped", start=ago(120), end=ago(100)),
        med_request("apixaban", "apx", status="completed", authored=ago(10)),
    )["drug-hold-apixaban"]
    assert [e.reference for e in item.evidence] == ["MedicationRequest/apx"]
    assert item.action is not None
    assert item.action.startswith("Confirm when the patient last took apixaban.")


def test_an_active_course_beside_one_with_no_end_asks_no_last_dose() -> None:
    found = items(
        med_request("apixaban", "old", status="completed", authored=ago(30)),
        med_request("apixaban", "now", authored=ago(5)),
    )
    action = found["drug-hold-apixaban"].action
    assert action is not None and action.startswith("Hold apixaban for 3 days")


def test_a_request_not_to_give_a_drug_is_no_course_of_it() -> None:
    # doNotPerform (an R4 modifier) turns "warfarin" into "do not give warfarin".
    forbidden = {**med_request("warfarin 5 mg", "w", authored=ago(10)), "doNotPerform": True}
    found = items(forbidden)
    assert not {"drug-hold-warfarin", "lab-inr", "lab-platelets"} & set(found)
    ordered = {**med_request("warfarin 5 mg", "w", authored=ago(10)), "doNotPerform": False}
    assert {"drug-hold-warfarin", "lab-inr", "lab-platelets"} <= set(items(ordered))


@pytest.mark.parametrize(
    ("drug", "hold_days"), [("apixaban 5 mg", 3), ("warfarin 5 mg", 5), ("enoxaparin 80 mg", 1)]
)
def test_hold_n_days_means_n_whole_days_without_the_drug(drug: str, hold_days: int) -> None:
    # Stopped N-1 or N days ago: not yet N whole days without it (the dose's time is not
    # charted), so the hold is still an action and completes on a later day; N+1: complete.
    ingredient = drug.split()[0]
    for days_ago in (hold_days - 1, hold_days):
        course = med_statement(drug, "d", status="completed", start=ago(200), end=ago(days_ago))
        item = items(course)[f"drug-hold-{ingredient}"]
        complete = date(2025, 6, 15) + timedelta(days=hold_days + 1 - days_ago)
        assert item.severity.value == "action"
        if days_ago > 0:  # taken today: the hold has not started, no completion day is given
            assert item.explanation.endswith(f"is complete from {complete.isoformat()}.")
        assert complete > date(2025, 6, 15)
        assert item.action is not None and item.action.startswith(f"Hold {ingredient} for")
    done = med_statement(drug, "d", status="completed", start=ago(200), end=ago(hold_days + 1))
    assert f"drug-hold-{ingredient}" not in items(done)


def test_an_end_charted_to_the_month_is_shown_as_charted() -> None:
    course = med_statement("apixaban", "a", status="completed", start="2025-01", end="2025-06")
    item = items(course)["drug-hold-apixaban"]
    assert item.explanation.startswith(
        "Direct factor Xa inhibitor: apixaban (MedicationStatement/a), ending in 2025-06 (no day "
        "given: the latest, 2025-06-30, is assumed)."
    )
    assert "2025-06-30" not in item.explanation.replace("the latest, 2025-06-30", "")
