"""Pre-procedure safety items: labs, drugs, allergies, pregnancy and prior fusion."""

from __future__ import annotations

from plugin.candidacy.assessment import SafetyItem
from plugin.candidacy.context import AssessmentContext
from plugin.candidacy.policy import Severity
from plugin.candidacy.safety.allergies import allergy_items
from plugin.candidacy.safety.drug_holds import drug_items
from plugin.candidacy.safety.labs import lab_items
from plugin.candidacy.safety.pregnancy import pregnancy_items
from plugin.candidacy.safety.prior_fusion import fusion_items

__all__ = ["safety_items"]

_SEVERITY_ORDER = {Severity.CONTRAINDICATION: 0, Severity.ACTION: 1, Severity.INFO: 2}


def safety_items(context: AssessmentContext) -> tuple[SafetyItem, ...]:
    """Every safety item, the most severe first (then by id, so the order is stable)."""
    items = [
        *pregnancy_items(context),
        *allergy_items(context),
        *drug_items(context),
        *lab_items(context),
        *fusion_items(context),
    ]
    return tuple(sorted(items, key=lambda item: (_SEVERITY_ORDER[item.severity], item.id)))
