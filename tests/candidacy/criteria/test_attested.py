"""Treatment decision hinges on the result: only the physician's attestation decides it."""

from __future__ import annotations

from plugin.candidacy import CriterionStatus
from tests.candidacy.chart_builder import PATIENT, ago, assess, good_lumbar_chart

ID = "treatment-decision"
REFERRAL = {
    "resourceType": "ServiceRequest",
    "id": "ref",
    "status": "active",
    "intent": "order",
    "subject": {"reference": PATIENT},
    "code": {"text": "Referral to spine surgery"},
    "authoredOn": ago(20),
}


def test_attested_is_met() -> None:
    result = assess(good_lumbar_chart()).criterion(ID)
    assert result.status is CriterionStatus.MET
    assert result.explanation.startswith("Attested in the app: a surgical")


def test_chart_evidence_is_shown_but_does_not_decide() -> None:
    result = assess([*good_lumbar_chart(), REFERRAL], attest=("imaging-inconclusive",)).criterion(
        ID
    )
    assert result.status is CriterionStatus.UNKNOWN
    assert [e.reference for e in result.evidence] == ["ServiceRequest/ref"]
    assert "The chart shows Referral to spine surgery (ServiceRequest/ref)." in result.explanation
    assert result.resolve is not None and result.resolve.startswith("Attest that a surgical")
