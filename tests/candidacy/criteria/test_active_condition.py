"""No active infection: an active infection fails; a recent antibiotic needs review."""

from __future__ import annotations

from datetime import timedelta

from plugin.candidacy import CriterionStatus
from plugin.candidacy.policy_file import default_policy
from plugin.candidacy.value_sets import CodeRef
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
POLICY = default_policy()


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


def test_chronic_viral_infections_and_history_entries_are_reviewed_not_counted() -> None:
    # The policy's review note: not counted as an active infection; the physician reviews them.
    result = infection(
        condition("Chronic hepatitis C infection", "hcv", onset="2010-01-01"),
        condition("History of urinary tract infection", "old-uti", onset="2019-01-01"),
    )
    assert result.status is CriterionStatus.UNKNOWN
    assert [e.reference for e in result.evidence] == ["Condition/hcv", "Condition/old-uti"]
    assert "the policy does not count it as an active infection" in result.explanation
    assert result.resolve is not None and "Condition/hcv" in result.resolve


def test_acute_hepatitis_b_is_shown_for_review_not_dropped() -> None:
    result = infection(condition("Acute hepatitis B infection", "hbv", onset=ago(20)))
    assert result.status is CriterionStatus.UNKNOWN
    assert [e.reference for e in result.evidence] == ["Condition/hbv"]


def test_negated_infection_words_are_not_an_infection() -> None:
    result = infection(condition("Non-infectious uveitis", "uv", onset=ago(20)))
    assert result.status is CriterionStatus.MET


def test_infection_words_beside_another_negation_are_unknown_not_not_met() -> None:
    result = infection(condition("Aseptic (non-infective) discitis", "ad", onset=ago(20)))
    assert result.status is CriterionStatus.UNKNOWN
    assert "cannot tell whether it is an active infection" in result.explanation


def test_an_infection_coded_with_an_unlisted_code_is_never_not_met_by_its_words() -> None:
    # The product policy lists no infection codes; a site that adds one must not have every
    # record coded otherwise decided by its words alone.
    criterion = next(c for c in POLICY.criteria if c.id == ID)
    coded = criterion.model_copy(
        update={
            "conditions": criterion.conditions.model_copy(
                update={
                    "codes": (
                        *criterion.conditions.codes,
                        CodeRef(system="urn:oid:2.16.840.1.113883.3.0", code="INF"),
                    )
                }
            )
        }
    )
    policy = POLICY.model_copy(
        update={"criteria": tuple(coded if c.id == ID else c for c in POLICY.criteria)}
    )
    record = condition("Discitis L4-L5", "d1", onset=ago(20))
    record["code"]["coding"] = [{"system": "urn:oid:2.16.840.1.113883.3.0", "code": "OTHER"}]
    result = assess([*good_lumbar_chart(), record], policy=policy).criterion(ID)
    assert result.status is CriterionStatus.UNKNOWN


def test_no_problem_list_at_all_is_unknown() -> None:
    chart = [r for r in good_lumbar_chart() if r["resourceType"] != "Condition"]
    result = assess(chart).criterion(ID)
    assert result.status is CriterionStatus.UNKNOWN
    assert result.resolve == (
        "Attach the patient's problem list, or confirm there is no active infection."
    )
