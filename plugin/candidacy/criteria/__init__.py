"""The candidacy criteria: one assessing function per policy method."""

from __future__ import annotations

from plugin.candidacy.assessment import CriterionAssessment
from plugin.candidacy.context import AssessmentContext
from plugin.candidacy.criteria.active_condition import assess_active_condition
from plugin.candidacy.criteria.attested import assess_attested
from plugin.candidacy.criteria.condition_duration import assess_condition_duration
from plugin.candidacy.criteria.conservative_care import assess_conservative_care
from plugin.candidacy.criteria.recent_imaging import assess_recent_imaging
from plugin.candidacy.criteria.severe_condition import assess_severe_condition
from plugin.candidacy.policy import (
    AttestationCriterion,
    ConditionDurationCriterion,
    ConservativeCareCriterion,
    Criterion,
    NoActiveConditionCriterion,
    NoSevereConditionCriterion,
    RecentImagingCriterion,
)

__all__ = ["assess_criterion"]


def assess_criterion(context: AssessmentContext, criterion: Criterion) -> CriterionAssessment:
    """Status, explanation, evidence and resolution of one policy criterion."""
    if isinstance(criterion, ConditionDurationCriterion):
        return assess_condition_duration(context, criterion)
    if isinstance(criterion, ConservativeCareCriterion):
        return assess_conservative_care(context, criterion)
    if isinstance(criterion, RecentImagingCriterion):
        return assess_recent_imaging(context, criterion)
    if isinstance(criterion, AttestationCriterion):
        return assess_attested(context, criterion)
    if isinstance(criterion, NoActiveConditionCriterion):
        return assess_active_condition(context, criterion)
    if isinstance(criterion, NoSevereConditionCriterion):
        return assess_severe_condition(context, criterion)
    raise AssertionError(f"no assessment for criterion method {type(criterion).__name__}")
