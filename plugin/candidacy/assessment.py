"""What a candidacy assessment says, JSON-ready: the outcome, each criterion with its chart
evidence, the pre-procedure safety items, and payer notes.

It records the policy (id, version) that produced it, the date it was made for and the
attestations it took into account, so the report's indication can cite exactly this assessment.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from plugin.candidacy.order import Order
from plugin.candidacy.policy import PolicyRef, Severity
from plugin.candidacy.value_sets import CodeRef
from plugin.study.levels import Region
from plugin.terminology import standard_code

__all__ = [
    "Assessment",
    "CriterionAssessment",
    "CriterionStatus",
    "Evidence",
    "EvidencePeriod",
    "Outcome",
    "OutcomeReason",
    "PayerNoteItem",
    "SafetyItem",
    "SafetyKind",
    "SuggestedOrder",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Outcome(StrEnum):
    CANDIDATE = "candidate"
    NOT_CANDIDATE = "not-candidate"
    NEEDS_REVIEW = "needs-review"


class CriterionStatus(StrEnum):
    MET = "met"
    NOT_MET = "not-met"
    UNKNOWN = "unknown"  # the chart lacks the data


class SafetyKind(StrEnum):
    LAB_MISSING = "lab-missing"
    LAB_OUT_OF_DATE = "lab-out-of-date"
    LAB_OUT_OF_RANGE = "lab-out-of-range"
    LAB_UNREADABLE = "lab-unreadable"  # a result whose value or unit cannot be read
    LAB_NOTE = "lab-note"  # e.g. kidney function known from creatinine alone
    DRUG_HOLD = "drug-hold"
    DRUG_NOTE = "drug-note"  # a drug to know about, with no hold period
    ALLERGY = "allergy"
    PREGNANCY = "pregnancy"
    PRIOR_FUSION = "prior-fusion"


class EvidencePeriod(BaseModel):
    model_config = _FROZEN

    start: str | None = None  # as charted: "2025", "2025-03", "2025-03-14"
    end: str | None = None


class Evidence(BaseModel):
    """One chart record behind a statement: its reference, when, the value used, a label."""

    model_config = _FROZEN

    reference: str | None  # "Procedure/pt-1"; None for a resource without id or fullUrl
    display: str  # "Physical therapy (CPT 97110)"
    date: str | None = None
    period: EvidencePeriod | None = None
    value: str | None = None  # "25 mL/min/1.73 m²", "pregnant", "active"


class CriterionAssessment(BaseModel):
    model_config = _FROZEN

    id: str
    title: str
    status: CriterionStatus
    explanation: str  # one sentence, with the dates and numbers used
    evidence: tuple[Evidence, ...] = ()
    resolve: str | None = None  # what would resolve an unknown (or a not-met, where useful)


class SuggestedOrder(BaseModel):
    """A test to order, as a code from mappings/standard-codes.json or the product's own
    CodeSystem (sent without display, its name in `text`)."""

    model_config = _FROZEN

    system: str
    code: str
    text: str
    #: How a sentence names the order ("Order a pregnancy test"); None: by its text (and then
    #: left out of the JSON, which stays as it was for every other order).
    phrase: str | None = Field(default=None, exclude_if=lambda value: value is None)

    @property
    def in_words(self) -> str:
        return self.phrase or self.text

    @classmethod
    def of(cls, ref: CodeRef, text: str, *, phrase: str | None = None) -> SuggestedOrder:
        """The order for a policy code; its text is the name in standard-codes.json or the
        product CodeSystem's display, else `text` (a site code cited from elsewhere)."""
        key = ref.governed_key
        if key is not None and ref.listed():
            text = standard_code(key, ref.code).name
        else:
            text = ref.product_display or text
        return cls(system=ref.url, code=ref.code, text=text, phrase=phrase)


class SafetyItem(BaseModel):
    model_config = _FROZEN

    id: str  # stable within an assessment: "drug-hold-apixaban", "lab-kidney-function"
    kind: SafetyKind
    severity: Severity
    title: str
    explanation: str
    action: str | None = None
    evidence: tuple[Evidence, ...] = ()
    hold_days: int | None = None
    hold_range_days: tuple[int, int] | None = None
    suggested_order: SuggestedOrder | None = None


class PayerNoteItem(BaseModel):
    model_config = _FROZEN

    id: str
    text: str
    citation: str | None = None
    # The regions it is about: an order naming no region gets every note, each labelled.
    regions: tuple[Region, ...] = ()


class OutcomeReason(BaseModel):
    """One thing that decided the outcome: a criterion's status or a safety item's severity."""

    model_config = _FROZEN

    source: str  # "criterion" | "safety"
    id: str
    detail: str  # "not-met", "unknown", "contraindication", "action"


class Assessment(BaseModel):
    model_config = _FROZEN

    policy: PolicyRef
    outcome: Outcome
    summary: str  # one line: "Needs review: 2 criteria unknown, 1 safety item needs action"
    today: date
    order: Order
    attestations: tuple[str, ...]
    criteria: tuple[CriterionAssessment, ...]
    safety: tuple[SafetyItem, ...]
    payer_notes: tuple[PayerNoteItem, ...] = ()
    reasons: tuple[OutcomeReason, ...] = ()

    def criterion(self, criterion_id: str) -> CriterionAssessment:
        return next(c for c in self.criteria if c.id == criterion_id)

    def safety_item(self, item_id: str) -> SafetyItem | None:
        return next((s for s in self.safety if s.id == item_id), None)
