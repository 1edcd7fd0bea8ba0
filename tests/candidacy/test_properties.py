"""Invariants of the engine over charts assembled at random from realistic pieces:
pregnant → never a candidate; any unknown criterion → never a candidate; the outcome follows
the rules exactly; and the resource order never changes anything."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugin.candidacy import Order, Outcome
from plugin.study.levels import Region
from tests.candidacy.chart_builder import (
    BOTH,
    CERVICAL,
    LUMBAR,
    ago,
    allergy,
    assess,
    condition,
    egfr,
    inr,
    med_request,
    med_statement,
    mri_report,
    patient,
    platelets,
    pregnancy_status,
    procedure,
    pt_sessions,
)

PIECES: list[list[dict[str, Any]]] = [
    [condition("Chronic low back pain", "lbp", onset=ago(months=14))],
    [condition("Low back pain", "lbp2", onset="2025-03")],
    [condition("Chronic neck pain", "neck", onset=ago(months=8))],
    pt_sessions(200, 16),
    pt_sessions(60, 6, prefix="short"),
    [med_request("naproxen 500 mg", "nap", authored=ago(months=5))],
    [med_statement("ibuprofen", "ibu", status="completed", start="2024-10", end="2025-02")],
    [mri_report(when=ago(70))],
    [mri_report("mri-old", when=ago(months=14))],
    [mri_report("mri-c", loinc="24935-9", text="MRI cervical spine", when=ago(40))],
    [egfr(82)],
    [egfr(25, oid="egfr-low", days_ago=2)],
    [inr(1.1), platelets(220)],
    [med_request("apixaban 5 mg", "apx", authored=ago(300))],
    [med_statement("cephalexin", "abx", status="completed", start=ago(12), end=ago(4))],
    [allergy("a1", snomed="293637006")],
    [condition("Cellulitis", "inf", onset=ago(5))],
    [condition("Lumbar spinal stenosis", "st", onset=ago(300))],
    [procedure("fus", text="Lumbar fusion L4-L5", performed=ago(900))],
    [pregnancy_status("60001007", oid="not-preg")],
]
PATIENTS = [patient(), patient(sex="female", birth="1990-02-02"), patient(sex=None, birth=None)]
ORDERS = [LUMBAR, CERVICAL, Order(region=Region.LUMBAR), None]

charts = st.builds(
    lambda pieces, who: [who, *(r for piece in pieces for r in piece)],
    st.lists(st.sampled_from(PIECES), unique_by=id, max_size=10),
    st.sampled_from(PATIENTS),
)
attestations = st.sampled_from([(), ("imaging-inconclusive",), ("decision-hinges",), BOTH])
orders = st.sampled_from(ORDERS)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(charts, attestations, orders)
def test_a_pregnant_patient_is_never_a_candidate(
    chart: list[dict[str, Any]], attest: tuple[str, ...], order: Order | None
) -> None:
    pregnant = pregnancy_status("77386006", oid="preg-now", days_ago=0)
    assert assess([*chart, pregnant], attest=attest, order=order).outcome is Outcome.NOT_CANDIDATE


@SETTINGS
@given(charts, attestations, orders)
def test_an_unknown_criterion_never_gives_a_candidate(
    chart: list[dict[str, Any]], attest: tuple[str, ...], order: Order | None
) -> None:
    assessment = assess(chart, attest=attest, order=order)
    if any(c.status.value == "unknown" for c in assessment.criteria):
        assert assessment.outcome is not Outcome.CANDIDATE


@SETTINGS
@given(charts, attestations, orders)
def test_the_outcome_follows_the_rules(
    chart: list[dict[str, Any]], attest: tuple[str, ...], order: Order | None
) -> None:
    assessment = assess(chart, attest=attest, order=order)
    statuses = {c.status.value for c in assessment.criteria}
    severities = {s.severity.value for s in assessment.safety}
    if "not-met" in statuses or "contraindication" in severities:
        expected = Outcome.NOT_CANDIDATE
    elif "unknown" in statuses or "action" in severities:
        expected = Outcome.NEEDS_REVIEW
    else:
        expected = Outcome.CANDIDATE
    assert assessment.outcome is expected
    assert assessment.summary.startswith(
        {
            Outcome.CANDIDATE: "Candidate",
            Outcome.NOT_CANDIDATE: "Not a candidate",
            Outcome.NEEDS_REVIEW: "Needs review",
        }[expected]
    )


@SETTINGS
@given(
    charts.flatmap(lambda chart: st.tuples(st.just(chart), st.permutations(chart))),
    attestations,
    orders,
)
def test_the_order_of_resources_changes_nothing(
    pair: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    attest: tuple[str, ...],
    order: Order | None,
) -> None:
    original, shuffled = pair
    first = assess(original, attest=attest, order=order)
    second = assess(shuffled, attest=attest, order=order)
    assert first.model_dump() == second.model_dump()
