from __future__ import annotations

from plugin.candidacy.assessment import CriterionStatus, Evidence
from plugin.cds_hooks.card_detail import EVIDENCE_SHOWN, candidacy_detail, markdown_text
from tests.cds_hooks.assessments import assessment_for


def test_markup_in_chart_text_is_escaped() -> None:
    assert markdown_text("[click](javascript:x) <b>*bold*</b> a|b") == (
        r"\[click\](javascript:x) \<b\>\*bold\*\</b\> a\|b"
    )
    assert markdown_text("two\nlines\t here") == "two lines here"


def test_detail_lists_unmet_criteria_with_evidence_and_resolution() -> None:
    detail = candidacy_detail(assessment_for("short-conservative-care"), "ServiceRequest/d1")
    assert detail.startswith(
        "**Not a candidate** for lumbar discography at L4-L5, L5-S1 (ServiceRequest/d1)."
    )
    section = detail.split("**Criteria not met**")[1].split("**Criteria met**")[0]
    assert "**Failed conservative care**" in section
    assert "Procedure/short-conservative-care-pt-01" in section


def test_detail_lists_unknown_criteria_and_safety_items() -> None:
    detail = candidacy_detail(assessment_for("on-apixaban", ()), None)
    assert "**Criteria unknown (the chart lacks the data)**" in detail
    assert "To resolve: Attest" in detail
    before = detail.split("**Before the procedure**")[1]
    assert "**Hold apixaban 3 days** (needs action)" in before
    assert "Hold for 3 day(s) before the procedure" in before
    assert detail.endswith("Physician attestations: none yet — give them in the app.")


def test_long_evidence_lists_are_counted_not_listed() -> None:
    assessment = assessment_for("lumbar-candidate")
    care = assessment.criterion("failed-conservative-care")
    many = tuple(Evidence(reference=f"Procedure/p{i}", display="Therapy") for i in range(9))
    unmet = care.model_copy(update={"status": CriterionStatus.NOT_MET, "evidence": many})
    changed = assessment.model_copy(update={"criteria": (unmet,)})
    detail = candidacy_detail(changed, None)
    assert detail.count("Therapy — Procedure/p") == EVIDENCE_SHOWN
    assert f"and {9 - EVIDENCE_SHOWN} more record(s)" in detail
