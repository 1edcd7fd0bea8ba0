"""Treatment decision hinges on the result: the physician attests (method ``attestation``;
shared/clinical.md §4, Anthem CG-SURG-29, seed 000). Chart records matching the policy's
`supporting` terms (a spine-surgery referral, a prior fusion) are shown beside the criterion
but never decide it: only the physician knows what the result would change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugin.candidacy.assessment import CriterionAssessment, CriterionStatus
from plugin.candidacy.context import AssessmentContext
from plugin.candidacy.evidence import evidence
from plugin.candidacy.phrases import listing, named
from plugin.candidacy.policy import AttestationCriterion
from plugin.candidacy.selections import recorded_date, timing

__all__ = ["assess_attested"]

_SUPPORTING_TYPES = ("ServiceRequest", "Encounter", "Procedure", "Condition")
_SHOWN = 5


def assess_attested(
    context: AssessmentContext, criterion: AttestationCriterion
) -> CriterionAssessment:
    statement = context.policy.attestation(criterion.attestation).text.rstrip(".")
    lowered = statement[:1].lower() + statement[1:]
    records = _supporting(context, criterion)
    shown = tuple(evidence(r) for r in records[:_SHOWN])
    context_words = (
        f" The chart shows {listing(named(r) for r in records[:_SHOWN])}." if records else ""
    )
    if context.attested(criterion.attestation):
        return CriterionAssessment(
            id=criterion.id,
            title=criterion.title,
            status=CriterionStatus.MET,
            # The engine is told that the attestation was given, not who gave it: the app
            # records and names the person.
            explanation=f"Attested in the app: {lowered}.",
            evidence=shown,
        )
    return CriterionAssessment(
        id=criterion.id,
        title=criterion.title,
        status=CriterionStatus.UNKNOWN,
        explanation=f"Only the ordering physician can state that {lowered}; no attestation "
        f"has been given.{context_words}",
        evidence=shown,
        resolve=f"Attest that {lowered}.",
    )


def _supporting(
    context: AssessmentContext, criterion: AttestationCriterion
) -> list[Mapping[str, Any]]:
    if criterion.supporting.empty:
        return []
    found = [
        resource
        for resource in context.chart.of_type(*_SUPPORTING_TYPES)
        if context.in_words(criterion.supporting, context.texts_of(resource))
    ]

    def newest_first(resource: Mapping[str, Any]) -> tuple[str, str]:
        when = timing(resource).start or recorded_date(resource)
        return (when.latest.isoformat() if when else "", str(resource.get("id", "")))

    return sorted(found, key=newest_first, reverse=True)
