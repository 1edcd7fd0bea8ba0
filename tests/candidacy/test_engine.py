"""Worked candidacy cases (shared/clinical.md §4), one row per clinical situation: a good
lumbar candidate's chart changed in one respect, the expected outcome, the criteria that are
not met, and the safety items that need action."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from plugin.candidacy import Order, Outcome, default_policy
from plugin.candidacy.value_sets import CodeRef, ValueSet
from plugin.study.levels import Region
from tests.candidacy.chart_builder import (
    BOTH,
    CERVICAL,
    LUMBAR,
    Resource,
    ago,
    allergy,
    assess,
    condition,
    egfr,
    good_lumbar_chart,
    inr,
    med_request,
    med_statement,
    mri_report,
    observation,
    patient,
    platelets,
    pregnancy_status,
    procedure,
    pt_sessions,
    without,
)

POLICY = default_policy()

Change = Callable[[list[Resource]], list[Resource]]


@dataclass(frozen=True)
class Case:
    name: str
    change: Change
    outcome: Outcome
    criteria: dict[str, str] = field(default_factory=dict)  # criteria not met (others: met)
    safety: dict[str, str] = field(default_factory=dict)  # items needing action or worse
    order: Order | None = LUMBAR
    attest: tuple[str, ...] = BOTH


def case(name: str, change: Change, outcome: str, **extra: Any) -> Any:
    return pytest.param(Case(name, change, Outcome(outcome), **extra), id=name)


def plus(*added: Resource) -> Change:
    return lambda chart: [*chart, *added]


def replaced(*ids: str, by: tuple[Resource, ...] = ()) -> Change:
    return lambda chart: [*without(chart, *ids), *by]


def female(age: int) -> Change:
    birth = f"{2025 - age - 1}-12-01"
    return replaced("p1", by=(patient(sex="female", birth=birth),))


def then(*changes: Change) -> Change:
    def apply(chart: list[Resource]) -> list[Resource]:
        for change in changes:
            chart = change(chart)
        return chart

    return apply


SAME: Change = lambda chart: chart  # noqa: E731
CERVICAL_CHART = replaced(
    "lbp",
    "mri-1",
    by=(
        condition("Chronic neck pain", "neck", onset=ago(months=12)),
        mri_report(loinc="24935-9", text="MRI cervical spine", when=ago(90)),
    ),
)

CASES = [
    # --- outcomes of the good candidate -----------------------------------------------------
    case("good lumbar candidate with both attestations", SAME, "candidate"),
    case("good cervical candidate", CERVICAL_CHART, "candidate", order=CERVICAL),
    case(
        "no attestation: imaging and decision unknown",
        SAME,
        "needs-review",
        attest=(),
        criteria={"imaging-inconclusive": "unknown", "treatment-decision": "unknown"},
    ),
    case(
        "imaging attested only",
        SAME,
        "needs-review",
        attest=("imaging-inconclusive",),
        criteria={"treatment-decision": "unknown"},
    ),
    # --- persistent axial pain ------------------------------------------------------------------
    case(
        "pain for 2 months",
        replaced("lbp", by=(condition("Low back pain", "lbp", onset=ago(months=2)),)),
        "not-candidate",
        criteria={"persistent-axial-pain": "not-met"},
    ),
    case(
        "no pain on the problem list",
        replaced("lbp"),
        "needs-review",
        criteria={
            "persistent-axial-pain": "unknown",
            # No problem list at all: an infection or a stenosis cannot be ruled out.
            "no-active-infection": "unknown",
            "no-severe-stenosis": "unknown",
        },
    ),
    case(
        "neck pain only, lumbar order",
        replaced("lbp", by=(condition("Neck pain", "neck", onset=ago(months=9)),)),
        "needs-review",
        criteria={"persistent-axial-pain": "unknown"},
    ),
    case(
        "resolved back pain",
        replaced(
            "lbp", by=(condition("Low back pain", "lbp", onset=ago(months=9), clinical="resolved"),)
        ),
        "needs-review",
        criteria={"persistent-axial-pain": "unknown"},
    ),
    case(
        "back pain entered in error",
        replaced(
            "lbp",
            by=(
                condition(
                    "Low back pain", "lbp", onset=ago(months=9), verification="entered-in-error"
                ),
            ),
        ),
        "needs-review",
        criteria={
            "persistent-axial-pain": "unknown",
            # No problem list at all: an infection or a stenosis cannot be ruled out.
            "no-active-infection": "unknown",
            "no-severe-stenosis": "unknown",
        },
    ),
    case(
        "disc disorder by recorded date",
        replaced("lbp", by=(condition("Lumbar disk disorder", "dd", recorded=ago(months=6)),)),
        "candidate",
    ),
    # --- conservative care ----------------------------------------------------------------------
    case(
        "6 weeks of physical therapy only",
        lambda c: [*without(c, "naproxen", *(f"pt-{i}" for i in range(17))), *pt_sessions(60, 6)],
        "not-candidate",
        criteria={"failed-conservative-care": "not-met"},
    ),
    case(
        "no conservative care at all",
        lambda c: without(c, "naproxen", *(f"pt-{i}" for i in range(17))),
        "needs-review",
        criteria={"failed-conservative-care": "unknown"},
    ),
    case(
        "long physical therapy, no medication",
        replaced("naproxen"),
        "not-candidate",
        criteria={"failed-conservative-care": "not-met"},
    ),
    case(
        "medication only",
        lambda c: without(c, *(f"pt-{i}" for i in range(17))),
        "not-candidate",
        criteria={"failed-conservative-care": "not-met"},
    ),
    # --- imaging --------------------------------------------------------------------------------
    case(
        "MRI 14 months old",
        replaced("mri-1", by=(mri_report(when=ago(months=14)),)),
        "not-candidate",
        criteria={"imaging-inconclusive": "not-met"},
    ),
    case("no MRI", replaced("mri-1"), "needs-review", criteria={"imaging-inconclusive": "unknown"}),
    case(
        "cervical MRI only, lumbar order",
        replaced(
            "mri-1", by=(mri_report(loinc="24935-9", text="MRI cervical spine", when=ago(30)),)
        ),
        "needs-review",
        criteria={"imaging-inconclusive": "unknown"},
    ),
    case(
        "MRI as an ImagingStudy described in text",
        replaced(
            "mri-1",
            by=(
                {
                    "resourceType": "ImagingStudy",
                    "id": "is1",
                    "status": "available",
                    "subject": {"reference": "Patient/p1"},
                    "started": ago(40),
                    "description": "MR L-SPINE WO CONTRAST",
                },
            ),
        ),
        "candidate",
    ),
    case(
        "MRI report cancelled",
        replaced("mri-1", by=(mri_report(when=ago(30), status="cancelled"),)),
        "needs-review",
        criteria={"imaging-inconclusive": "unknown"},
    ),
    # --- infection and stenosis -----------------------------------------------------------------
    case(
        "active cellulitis",
        plus(condition("Cellulitis of left leg", "inf", onset=ago(10))),
        "not-candidate",
        criteria={"no-active-infection": "not-met"},
    ),
    case(
        "resolved pneumonia",
        plus(condition("Pneumonia", "inf", onset=ago(90), clinical="resolved")),
        "candidate",
    ),
    case(
        "antibiotic 5 days ago",
        plus(
            med_statement(
                "cephalexin 500 mg capsule", "abx", status="completed", start=ago(12), end=ago(5)
            )
        ),
        "needs-review",
        criteria={"no-active-infection": "unknown"},
    ),
    case(
        "antibiotic 20 days ago",
        plus(
            med_statement(
                "amoxicillin 500 mg", "abx", status="completed", start=ago(30), end=ago(20)
            )
        ),
        "candidate",
    ),
    case(
        "severe lumbar stenosis",
        plus(condition("Severe lumbar spinal stenosis", "st", onset=ago(200))),
        "not-candidate",
        criteria={"no-severe-stenosis": "not-met"},
    ),
    case(
        "stenosis of unstated severity",
        plus(condition("Spinal stenosis of lumbar region", "st", onset=ago(200))),
        "needs-review",
        criteria={"no-severe-stenosis": "unknown"},
    ),
    case(
        "mild stenosis",
        plus(condition("Spinal stenosis, lumbar", "st", onset=ago(200), severity="Mild")),
        "candidate",
    ),
    case(
        "severe cervical stenosis, lumbar order",
        plus(condition("Severe cervical spinal stenosis", "st", onset=ago(200))),
        "candidate",
    ),
    # --- drugs ----------------------------------------------------------------------------------
    case(
        "on apixaban",
        plus(med_request("apixaban 5 mg oral tablet", "apx", authored=ago(400))),
        "needs-review",
        safety={"drug-hold-apixaban": "action", "lab-inr": "action", "lab-platelets": "action"},
    ),
    case(
        "on apixaban with recent clotting labs",
        plus(med_request("Eliquis 5 mg", "apx", authored=ago(400)), inr(1.1), platelets(240)),
        "needs-review",
        safety={"drug-hold-apixaban": "action"},
    ),
    case(
        "on warfarin with INR 2.4",
        plus(med_request("warfarin 5 mg tablet", "w", authored=ago(400)), inr(2.4), platelets(200)),
        "needs-review",
        safety={"drug-hold-warfarin": "action", "lab-inr-out-of-range": "action"},
    ),
    case(
        "on clopidogrel: no clotting labs needed",
        plus(med_statement("clopidogrel 75 mg", "clo", start=ago(300))),
        "needs-review",
        safety={"drug-hold-clopidogrel": "action"},
    ),
    case(
        "apixaban stopped a year ago",
        plus(
            med_statement("apixaban 5 mg", "apx", status="completed", start=ago(500), end=ago(365))
        ),
        "candidate",
    ),
    # --- allergies ------------------------------------------------------------------------------
    case(
        "contrast allergy",
        plus(allergy("a1", snomed="293637006", criticality="high")),
        "needs-review",
        safety={"allergy-contrast": "action"},
    ),
    case(
        "contrast allergy by text",
        plus(allergy("a1", text="Iodinated contrast media", reaction="Hives")),
        "needs-review",
        safety={"allergy-contrast": "action"},
    ),
    case(
        "contrast allergy resolved",
        plus(allergy("a1", snomed="293637006", clinical="resolved")),
        "candidate",
    ),
    case(
        "contrast allergy refuted",
        plus(allergy("a1", snomed="293637006", verification="refuted")),
        "candidate",
    ),
    case(
        "cephalosporin allergy",
        plus(allergy("a1", text="Cefazolin")),
        "needs-review",
        safety={"allergy-cephalosporin": "action"},
    ),
    case(
        "lidocaine allergy",
        plus(allergy("a1", text="Lidocaine")),
        "needs-review",
        safety={"allergy-local-anaesthetic": "action"},
    ),
    # --- pregnancy ------------------------------------------------------------------------------
    case(
        "pregnant",
        then(female(32), plus(pregnancy_status("77386006"))),
        "not-candidate",
        safety={"pregnancy": "contraindication"},
    ),
    case(
        "woman of 34 without pregnancy status",
        female(34),
        "needs-review",
        safety={"pregnancy": "action"},
    ),
    case(
        "woman of 34, not pregnant 3 days ago",
        then(female(34), plus(pregnancy_status("60001007"))),
        "candidate",
    ),
    case(
        "woman of 34, not pregnant 40 days ago",
        then(female(34), plus(pregnancy_status("60001007", days_ago=40))),
        "needs-review",
        safety={"pregnancy": "action"},
    ),
    case(
        "woman of 34, pregnancy status unknown",
        then(female(34), plus(pregnancy_status("261665006"))),
        "needs-review",
        safety={"pregnancy": "action"},
    ),
    case("woman of 60", female(60), "candidate"),
    case(
        "woman of 34 after hysterectomy",
        then(
            female(34),
            plus(procedure("hyst", text="Total abdominal hysterectomy", performed=ago(800))),
        ),
        "candidate",
    ),
    case(
        "sex and age not recorded",
        replaced("p1", by=(patient(sex=None, birth=None),)),
        "needs-review",
        safety={"pregnancy": "action"},
    ),
    # --- labs -----------------------------------------------------------------------------------
    case(
        "no kidney function",
        replaced("egfr-1"),
        "needs-review",
        safety={"lab-kidney-function": "action"},
    ),
    case(
        "eGFR 40 days old",
        replaced("egfr-1", by=(egfr(80, days_ago=40),)),
        "needs-review",
        safety={"lab-kidney-function": "action"},
    ),
    case(
        "eGFR 25: contrast risk and clotting labs",
        replaced("egfr-1", by=(egfr(25),)),
        "needs-review",
        safety={"lab-egfr-out-of-range": "action", "lab-inr": "action", "lab-platelets": "action"},
    ),
    case(
        "chronic kidney disease needs clotting labs",
        plus(condition("Chronic kidney disease stage 3", "ckd", onset=ago(900))),
        "needs-review",
        safety={"lab-inr": "action", "lab-platelets": "action"},
    ),
    case(
        "platelets 80 without a clotting risk",
        plus(platelets(80)),
        "needs-review",
        safety={"lab-platelets-out-of-range": "action"},
    ),
    # --- prior fusion ---------------------------------------------------------------------------
    case(
        "fusion at an ordered level",
        plus(
            procedure(
                "fus",
                text="Posterior lumbar interbody fusion",
                performed=ago(1100),
                body_site={"coding": [{"system": "http://snomed.info/sct", "code": "84020006"}]},
            )
        ),
        "needs-review",
        safety={"prior-fusion-L4-L5": "action"},
    ),
    case(
        "fusion above the ordered levels",
        plus(procedure("fus", text="Lumbar fusion L1-L2", performed=ago(1100))),
        "candidate",
    ),
    case(
        "fusion with levels unrecorded",
        plus(condition("History of lumbar fusion", "fus", recorded=ago(900), clinical="inactive")),
        "needs-review",
        safety={"prior-fusion-fus": "action"},
    ),
    case(
        "ankle arthrodesis is no spinal fusion",
        plus(procedure("ank", text="Arthrodesis of ankle", performed=ago(900))),
        "candidate",
    ),
    # --- order ----------------------------------------------------------------------------------
    case("order region unknown", SAME, "candidate", order=None),
    case(
        "cervical order on a lumbar chart",
        SAME,
        "needs-review",
        order=Order(region=Region.CERVICAL),
        criteria={"persistent-axial-pain": "unknown", "imaging-inconclusive": "unknown"},
    ),
]


@pytest.mark.parametrize("row", CASES)
def test_candidacy(row: Case) -> None:
    assessment = assess(row.change(good_lumbar_chart()), order=row.order, attest=row.attest)
    statuses = {c.id: c.status.value for c in assessment.criteria if c.status.value != "met"}
    needing = {s.id: s.severity.value for s in assessment.safety if s.severity.value != "info"}
    assert (assessment.outcome, statuses, needing) == (row.outcome, row.criteria, row.safety), (
        assessment.summary
    )


def test_payer_notes_name_their_regions_and_follow_the_orders_region() -> None:
    unplaced = assess(good_lumbar_chart(), order=None, attest=BOTH)
    assert {note.id: note.regions for note in unplaced.payer_notes} == {
        "bcbs-nd-cervical-thoracic": (Region.CERVICAL, Region.THORACIC),
        "wa-lni-low-back": (Region.LUMBAR,),
    }
    lumbar = assess(good_lumbar_chart(), order=Order(region=Region.LUMBAR), attest=BOTH)
    assert [note.id for note in lumbar.payer_notes] == ["wa-lni-low-back"]


def test_charts_and_policies_assessed_one_after_another_give_their_own_results() -> None:
    # What an assessment reads once (the policy's listed codes, the chart's index of concepts,
    # a record's words) is never carried into the next: a site policy listing the local code
    # for creatinine makes the same record a creatinine, not an eGFR, and then back again.
    local = {
        **observation("local-1", text="eGFR", when=ago(2), value=20.0, unit="mL/min/1.73m2"),
        "code": {"coding": [{"system": "urn:local", "code": "k-20"}], "text": "eGFR"},
    }
    creatinine = POLICY.lab("creatinine")
    value_set = ValueSet(
        codes=(*creatinine.value_set.codes, CodeRef(system="urn:local", code="k-20")),
        text=creatinine.value_set.text,
    )
    site = POLICY.model_copy(
        update={
            "labs": tuple(
                lab.model_copy(update={"value_set": value_set}) if lab.id == "creatinine" else lab
                for lab in POLICY.labs
            )
        }
    )
    low = [*good_lumbar_chart(), local]
    normal = good_lumbar_chart()
    out_of_range = "lab-egfr-out-of-range"
    for _ in range(2):
        assert out_of_range in {i.id for i in assess(low, policy=POLICY).safety}
        assert out_of_range not in {i.id for i in assess(low, policy=site).safety}
        assert out_of_range not in {i.id for i in assess(normal, policy=POLICY).safety}
