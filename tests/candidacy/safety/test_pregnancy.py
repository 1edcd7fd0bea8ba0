"""Pregnancy: pregnant is a contraindication; unknown for a patient of child-bearing
potential means test first."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta

import pytest

from plugin.candidacy import SafetyItem, assess_candidacy, chart_from_resources
from plugin.candidacy.policy_file import default_policy, parse_policy, policy_path
from plugin.terminology import PRODUCT_CODE_SYSTEMS
from tests.candidacy.chart_builder import (
    BOTH,
    LUMBAR,
    TODAY,
    ago,
    assess,
    condition,
    good_lumbar_chart,
    observation,
    patient,
    pregnancy_status,
    procedure,
    without,
)


def pregnancy(
    *resources: dict[str, object],
    sex: str | None = "female",
    birth: str | None = "1991-01-01",
    **extra: object,
) -> SafetyItem | None:
    chart = [*without(good_lumbar_chart(), "p1"), patient(sex=sex, birth=birth), *resources]
    return assess(chart, **extra).safety_item("pregnancy")  # type: ignore[arg-type]


def test_pregnant_is_a_contraindication() -> None:
    item = pregnancy(pregnancy_status("77386006"))
    assert item is not None and item.severity.value == "contraindication"
    assert item.explanation.startswith(
        "Pregnancy status (Observation/preg-1) on 2025-06-12 records the patient as pregnant"
    )


def test_a_later_not_pregnant_result_supersedes() -> None:
    assert (
        pregnancy(
            pregnancy_status("77386006", days_ago=20, oid="a"),
            pregnancy_status("60001007", days_ago=2, oid="b"),
        )
        is None
    )


def test_a_positive_pregnancy_test_reported_as_text() -> None:
    test = observation("hcg", text="Pregnancy test, urine", when=ago(1), value_string="Positive")
    item = pregnancy(test)
    assert item is not None and item.severity.value == "contraindication"
    negative = observation("hcg", text="hCG qualitative", when=ago(1), value_string="Not detected")
    assert pregnancy(negative) is None


def test_an_active_pregnancy_condition() -> None:
    item = pregnancy(condition("Intrauterine pregnancy", "preg", onset=ago(60)))
    assert item is not None and item.severity.value == "contraindication"


def test_unknown_status_asks_for_a_test_with_the_code_to_record() -> None:
    item = pregnancy()
    assert item is not None and item.severity.value == "action"
    assert item.explanation == (
        "The patient may be of child-bearing potential (female, age 34) and no pregnancy status "
        "is recorded."
    )
    # The order is a pregnancy test (a product code); 82810-3 is the status it is recorded as.
    assert item.action == (
        "Order a pregnancy test and confirm pregnancy status before the procedure (record the "
        "result as Pregnancy status, LOINC 82810-3)."
    )
    assert item.suggested_order is not None
    assert item.suggested_order.model_dump() == {
        "system": "https://discography-plugin.example/fhir/CodeSystem/discography",
        "code": "pregnancy-test",
        "text": "Pregnancy test (hCG)",
        "phrase": "a pregnancy test",
    }


def test_the_suggested_pregnancy_test_is_a_product_code() -> None:
    # 82810-3 "Pregnancy status" is a finding, not an orderable test; no hCG LOINC is cited.
    ref = default_policy().pregnancy.suggested_order
    assert (ref.url, ref.code) == (PRODUCT_CODE_SYSTEMS["discography"].url, "pregnancy-test")
    assert ref.product_display == "Pregnancy test (hCG)"


@pytest.mark.parametrize(
    ("birth", "asked"),
    [("2013-06-15", True), ("2013-06-16", False), ("1970-01-01", True), ("1969-06-15", False)],
)
def test_child_bearing_age_is_12_to_55(birth: str, asked: bool) -> None:
    # On 2025-06-15: born 2013-06-15 → 12, 2013-06-16 → 11, 1970-01-01 → 55, 1969-06-15 → 56.
    assert (pregnancy(birth=birth) is not None) is asked


def test_men_are_not_asked_and_unknown_sex_is() -> None:
    assert pregnancy(sex="male") is None
    item = pregnancy(sex=None, birth=None)
    assert item is not None and "(sex not recorded, age not recorded)" in item.explanation


def test_a_site_can_change_the_age_range() -> None:
    site = copy.deepcopy(json.loads(policy_path().read_text(encoding="utf-8")))
    site["pregnancy"]["child_bearing_potential"]["max_age_years"] = 50
    assert pregnancy(birth="1972-01-01", policy=parse_policy(site)) is None


@pytest.mark.parametrize("gender", ["unknown", "other"])
def test_an_administrative_gender_that_states_no_sex_does_not_end_the_check(gender: str) -> None:
    # Patient.gender is the only sex the chart gives; only a recorded male excludes the check.
    item = pregnancy(sex=gender)
    assert item is not None and item.severity.value == "action"
    assert item.explanation == (
        f"The patient may be of child-bearing potential (administrative gender {gender}, which "
        "does not record the sex, age 34) and no pregnancy status is recorded."
    )
    assert pregnancy(sex=gender, birth="1960-01-01") is None  # the age limits still apply


def test_a_pregnancy_test_the_policy_cannot_read_is_named_for_review() -> None:
    hcg = observation("hcg", text="Beta hCG", when=ago(3), value=5000, unit="m[IU]/mL")
    item = pregnancy(hcg)
    assert item is not None and item.severity.value == "action"
    assert item.explanation == (
        "The patient may be of child-bearing potential (female, age 34) and a pregnancy test "
        "result, Beta hCG (Observation/hcg) on 2025-06-12 (5000 m[IU]/mL), is recorded but not "
        "as a pregnancy status the policy can read: review it."
    )
    assert [(e.reference, e.value) for e in item.evidence] == [("Observation/hcg", "5000 m[IU]/mL")]


def test_an_unreadable_test_after_a_current_not_pregnant_needs_review() -> None:
    hcg = observation("hcg", text="Beta hCG", when=ago(3), value=5000, unit="m[IU]/mL")
    item = pregnancy(pregnancy_status("60001007", days_ago=10), hcg)
    assert item is not None and item.severity.value == "action"
    assert item.explanation.endswith(
        "the latest readable result, not pregnant on 2025-06-05 (Pregnancy status "
        "(Observation/preg-1)), is 10 days old; a later pregnancy test result, Beta hCG "
        "(Observation/hcg) on 2025-06-12 (5000 m[IU]/mL), is recorded but not as a pregnancy "
        "status the policy can read: review it."
    )
    # An unreadable test before the current "not pregnant" is superseded by it.
    earlier = observation("hcg", text="Beta hCG", when=ago(12), value=5000, unit="m[IU]/mL")
    assert pregnancy(pregnancy_status("60001007", days_ago=10), earlier) is None


def test_an_unreadable_result_is_named_only_within_the_longest_validity_period() -> None:
    rules = default_policy().pregnancy
    longest = max(rules.pregnant_valid_days, rules.not_pregnant_valid_days)
    assert longest == 280

    def hcg(days: int) -> dict[str, object]:
        return observation("hcg", text="Beta hCG", when=ago(days), value=3, unit="m[IU]/mL")

    recent = pregnancy(hcg(longest))
    assert recent is not None and "(Observation/hcg)" in recent.explanation
    for old in (longest + 1, 700):
        item = pregnancy(hcg(old))
        assert item is not None and item.explanation == (
            "The patient may be of child-bearing potential (female, age 34) and no pregnancy "
            "status is recorded."
        )
        assert item.evidence == ()
    # Beside an old "not pregnant", an old unreadable test leaves the latest readable result.
    item = pregnancy(pregnancy_status("60001007", days_ago=800), hcg(700))
    assert item is not None and item.explanation.endswith(
        "the latest result, not pregnant on 2023-04-07 (Pregnancy status (Observation/preg-1)), "
        "is 800 days old (valid 30 days)."
    )


def test_a_pregnancy_status_with_an_answer_the_policy_cannot_read_is_named_too() -> None:
    status = observation(
        "ps", loinc="82810-3", text="Pregnancy status", when=ago(2), value_string="see note"
    )
    item = pregnancy(status)
    assert item is not None and item.explanation.endswith(
        "and a pregnancy status result, Pregnancy status (Observation/ps) on 2025-06-13 "
        "(see note), is recorded but not as a pregnancy status the policy can read: review it."
    )


# --- results of the same day (review item: a negative must never silently win) ---------------


def _test(oid: str, when: str, result: str) -> dict[str, object]:
    return observation(oid, text="Pregnancy test, urine", when=when, value_string=result)


def test_a_positive_later_the_same_day_is_a_contraindication_whatever_the_ids() -> None:
    day = ago(1)
    for negative_id, positive_id in (("a", "b"), ("z", "a")):
        item = pregnancy(
            _test(negative_id, f"{day}T08:00:00Z", "Negative"),
            _test(positive_id, f"{day}T16:00:00Z", "Positive"),
        )
        assert item is not None and item.severity.value == "contraindication"
        assert f"(Observation/{positive_id})" in item.explanation


def test_a_negative_later_the_same_day_by_its_time_supersedes() -> None:
    day = ago(1)
    later = pregnancy(
        _test("z", f"{day}T08:00:00Z", "Positive"), _test("a", f"{day}T16:00:00Z", "Negative")
    )
    assert later is None
    # Times in different zones are compared as moments: 16:00+10:00 is 06:00Z, before 08:00Z.
    earlier = pregnancy(
        _test("n", f"{day}T16:00:00+10:00", "Negative"), _test("p", f"{day}T08:00:00Z", "Positive")
    )
    assert earlier is not None and earlier.severity.value == "contraindication"


@pytest.mark.parametrize(
    ("positive_when", "negative_when", "why"),
    [
        ("2025-06-12", "2025-06-12", "the chart does not give a time of day for each"),
        ("2025-06-12T08:00:00Z", "2025-06-12", "the chart does not give a time of day for each"),
        (
            "2025-06-12T08:00:00Z",
            "2025-06-12T10:00:00+02:00",
            "both are recorded at the same moment",
        ),
    ],
)
def test_conflicting_results_the_chart_cannot_order_need_a_repeat_test(
    positive_when: str, negative_when: str, why: str
) -> None:
    for ids in (("a", "b"), ("b", "a")):
        item = pregnancy(
            _test(ids[0], positive_when, "Positive"), _test(ids[1], negative_when, "Negative")
        )
        assert item is not None and item.severity.value == "action"
        assert item.title == "Pregnancy results conflict"
        assert item.explanation == (
            "Conflicting pregnancy results on 2025-06-12: Pregnancy test, urine "
            f"(Observation/{ids[0]}) records the patient as pregnant and Pregnancy test, urine "
            f"(Observation/{ids[1]}) as not pregnant, and {why}"
            + (", so it does not show which came later" if "time of day" in why else "")
            + ". Fluoroscopy and contrast injection are not done in pregnancy."
        )
        assert item.action is not None and item.action.startswith("Repeat the test: order")
        assert {e.reference for e in item.evidence} == {
            f"Observation/{ids[0]}",
            f"Observation/{ids[1]}",
        }


def test_a_later_negative_day_still_supersedes_a_positive() -> None:
    assert pregnancy(_test("p", ago(3), "Positive"), _test("n", ago(2), "Negative")) is None


# --- what ends child-bearing potential -------------------------------------------------------


def test_a_completed_hysterectomy_ends_the_check_and_says_which_record() -> None:
    item = pregnancy(procedure("hy", text="Total abdominal hysterectomy", performed="2023-04-06"))
    assert item is not None and item.severity.value == "info"
    assert item.explanation == (
        "Total abdominal hysterectomy (Procedure/hy), performed 2023-04-06: the policy takes it "
        "to end child-bearing potential, so no pregnancy status is asked for."
    )
    assert [e.reference for e in item.evidence] == ["Procedure/hy"]


@pytest.mark.parametrize(
    ("status", "days_ahead"),
    [("preparation", 30), ("in-progress", 0), ("completed", 30), ("on-hold", -10)],
)
def test_a_planned_or_unfinished_hysterectomy_does_not_end_the_check(
    status: str, days_ahead: int
) -> None:
    when = (date(2025, 6, 15) + timedelta(days=days_ahead)).isoformat()
    hysterectomy = procedure(
        "hy", text="Total abdominal hysterectomy", performed=when, status=status
    )
    item = pregnancy(hysterectomy)
    assert item is not None and item.severity.value == "action"
    assert item.title == "Pregnancy status unknown"


@pytest.mark.parametrize(
    "text",
    [
        "Family history of early menopause",
        "Family history: mother had hysterectomy",
        "FH of premature menopause",
        "FHx: hysterectomy (sister)",
    ],
)
def test_a_family_history_condition_does_not_end_the_check(text: str) -> None:
    item = pregnancy(condition(text, "fh", onset=ago(100)))
    assert item is not None and item.severity.value == "action"


@pytest.mark.parametrize("verification", ["provisional", "unconfirmed", "differential", "refuted"])
def test_an_unestablished_menopause_condition_does_not_end_the_check(verification: str) -> None:
    item = pregnancy(condition("Menopause", "m", onset=ago(100), verification=verification))
    assert item is not None and item.severity.value == "action"


def test_an_established_menopause_condition_ends_the_check_even_when_resolved() -> None:
    item = pregnancy(condition("Postmenopausal", "m", onset="2024-05-12", clinical="inactive"))
    assert item is not None and item.severity.value == "info"
    assert item.explanation.startswith("Postmenopausal (Condition/m), onset 2024-05-12:")


@pytest.mark.parametrize(
    "record",
    [
        procedure("mc", text="Menopause counselling", performed="2025-01-10"),
        condition("Menopause symptoms", "ms", onset="2024-11-02"),
        condition("Perimenopause", "pm", onset="2024-11-02"),
        condition("Perimenopausal menorrhagia after hysterectomy consult", "pc", onset=ago(30)),
        condition("At risk of premature menopause", "rk", onset="2024-11-02"),
    ],
    ids=["counselling", "symptoms", "perimenopause", "perimenopausal", "risk"],
)
def test_words_naming_menopause_without_meaning_it_do_not_end_the_check(
    record: dict[str, object],
) -> None:
    # A woman of 48 around the menopause can still conceive (policy 1.3.0: not_counted).
    item = pregnancy(record, birth="1977-02-01")
    assert item is not None and item.severity.value == "action"
    assert item.title == "Pregnancy status unknown"


def test_menopause_itself_still_ends_the_check() -> None:
    item = pregnancy(condition("Menopause", "m", onset="2024-05-12"), birth="1972-02-01")
    assert item is not None and item.severity.value == "info"


def test_a_chart_read_from_a_day_on_says_so_when_no_pregnancy_status_is_found() -> None:
    chart = [*without(good_lumbar_chart(), "p1"), patient(sex="female", birth="1991-01-01")]
    read = chart_from_resources(chart, observations_from=date(2025, 6, 5))
    assessment = assess_candidacy(read, today=TODAY, order=LUMBAR, attestations=BOTH)
    item = assessment.safety_item("pregnancy")
    assert item is not None and item.severity.value == "action"
    assert "no pregnancy status dated from 2025-06-05 on was read" in item.explanation
