"""The card's one-line `summary`: fewer than 140 characters, always (CDS Hooks 2.0 §Card
Attributes; Inferno rejects 140 or more). Policy titles are data a site may make long, so the
line is cut at a word boundary with an ellipsis when it would not fit."""

from __future__ import annotations

from plugin.candidacy.assessment import Assessment, Outcome, OutcomeReason

__all__ = ["SUMMARY_LIMIT", "candidacy_summary", "fitted"]

#: Longest summary we send: the specification says "<140-character".
SUMMARY_LIMIT = 139

_LEADS = {
    Outcome.CANDIDATE: "Discography candidate",
    Outcome.NOT_CANDIDATE: "Not a discography candidate",
    Outcome.NEEDS_REVIEW: "Discography needs review",
}
_DETAIL_WORDS = {
    "not-met": "not met",
    "unknown": "unknown",
    "contraindication": "contraindication",
    "action": "needs action",
}


def fitted(text: str, limit: int = SUMMARY_LIMIT) -> str:
    """`text` on one line, cut to at most `limit` characters at a word boundary ("…" added)."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:—-") + "…"


def _reason_text(assessment: Assessment, reason: OutcomeReason) -> str:
    if reason.source == "criterion":
        title = next((c.title for c in assessment.criteria if c.id == reason.id), reason.id)
    else:
        item = assessment.safety_item(reason.id)
        title = item.title if item is not None else reason.id
    return f"{title} ({_DETAIL_WORDS.get(reason.detail, reason.detail)})"


#: Which reason the summary names first: what stops the procedure, then what must be done.
_PRIORITY = {"contraindication": 0, "not-met": 1, "action": 2, "unknown": 3}


def candidacy_summary(assessment: Assessment) -> str:
    lead = _LEADS[assessment.outcome]
    reasons = sorted(assessment.reasons, key=lambda r: _PRIORITY.get(r.detail, 9))
    if assessment.outcome is Outcome.CANDIDATE or not reasons:
        count = len(assessment.criteria)
        return fitted(f"{lead}: all {count} criteria met, no safety item needs action")
    first = _reason_text(assessment, reasons[0])
    more = f" + {len(reasons) - 1} more" if len(reasons) > 1 else ""
    # The count of further reasons must survive the cut: fit the first reason around it.
    head = fitted(f"{lead}: {first}", SUMMARY_LIMIT - len(more))
    return head + more
