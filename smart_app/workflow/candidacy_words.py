"""The words the app's pages use for a candidacy assessment's outcome, criterion statuses and
safety severities (keyed by the enums' values, which the enums themselves also match)."""

from __future__ import annotations

from plugin.candidacy.assessment import CriterionStatus, Outcome
from plugin.candidacy.policy import Severity

__all__ = ["CRITERION_WORDS", "OUTCOME_WORDS", "SEVERITY_WORDS"]

OUTCOME_WORDS = {
    Outcome.CANDIDATE.value: "candidate",
    Outcome.NOT_CANDIDATE.value: "not a candidate",
    Outcome.NEEDS_REVIEW.value: "needs review",
}
CRITERION_WORDS = {
    CriterionStatus.MET.value: "Met",
    CriterionStatus.NOT_MET.value: "Not met",
    CriterionStatus.UNKNOWN.value: "Unknown",
}
SEVERITY_WORDS = {
    Severity.CONTRAINDICATION.value: "Contraindication",
    Severity.ACTION.value: "Action needed",
    Severity.INFO.value: "For information",
}
