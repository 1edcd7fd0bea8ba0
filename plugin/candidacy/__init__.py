"""Candidacy for provocative discography at referral: the policy as data, the chart as FHIR R4
resources, and a pure engine that says whether the patient qualifies, why, and what must
happen before the procedure (shared/clinical.md §4)."""

from plugin.candidacy.assessment import (
    Assessment,
    CriterionAssessment,
    CriterionStatus,
    Evidence,
    Outcome,
    SafetyItem,
    SafetyKind,
    SuggestedOrder,
)
from plugin.candidacy.chart import Chart, ChartInvalidError, chart_from_json, chart_from_resources
from plugin.candidacy.engine import assess_candidacy, parse_attestations
from plugin.candidacy.order import (
    Order,
    OrderInvalidError,
    is_discography_request,
    order_from_json,
    order_from_service_request,
)
from plugin.candidacy.policy import Policy, Severity
from plugin.candidacy.policy_file import (
    PolicyInvalidError,
    configured_policy,
    default_policy,
    load_policy,
    parse_policy,
)

__all__ = [
    "Assessment",
    "Chart",
    "ChartInvalidError",
    "CriterionAssessment",
    "CriterionStatus",
    "Evidence",
    "Order",
    "OrderInvalidError",
    "Outcome",
    "Policy",
    "PolicyInvalidError",
    "SafetyItem",
    "SafetyKind",
    "Severity",
    "SuggestedOrder",
    "assess_candidacy",
    "chart_from_json",
    "chart_from_resources",
    "configured_policy",
    "default_policy",
    "is_discography_request",
    "load_policy",
    "order_from_json",
    "order_from_service_request",
    "parse_attestations",
    "parse_policy",
]
