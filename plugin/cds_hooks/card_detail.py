"""The card's `detail`: GitHub-flavoured Markdown (CDS Hooks 2.0 §Card Attributes) listing what
the ordering clinician must look at — unmet and unknown criteria with their chart evidence and
what would resolve them, the pre-procedure safety items, then the criteria met and payer notes.

Every piece of text from the chart or the policy is escaped, so a drug name or a note with
``*``, ``[x](y)`` or ``<b>`` shows as written and can never become a link or markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from plugin.candidacy.assessment import (
    Assessment,
    CriterionAssessment,
    CriterionStatus,
    Evidence,
    Outcome,
    SafetyItem,
)
from plugin.candidacy.policy import Severity

__all__ = ["EVIDENCE_SHOWN", "candidacy_detail", "markdown_text"]

#: Evidence items listed per criterion or safety item; the rest are counted.
EVIDENCE_SHOWN = 4

# Characters that can start markup anywhere in a line (GFM inline syntax, HTML, tables).
_SPECIAL = re.compile(r"([\\`*_\[\]<>#!|~&])")
_SPACE = re.compile(r"\s+")

_OUTCOME_WORDS = {
    Outcome.CANDIDATE: "Candidate",
    Outcome.NOT_CANDIDATE: "Not a candidate",
    Outcome.NEEDS_REVIEW: "Needs review",
}
_SEVERITY_WORDS = {
    Severity.CONTRAINDICATION: "contraindication",
    Severity.ACTION: "needs action",
    Severity.INFO: "for information",
}


def markdown_text(text: str) -> str:
    """`text` on one line with every Markdown and HTML special character escaped."""
    return _SPECIAL.sub(r"\\\1", _SPACE.sub(" ", text).strip())


def _evidence_line(evidence: Evidence) -> str:
    when = evidence.date
    if evidence.period is not None:
        start, end = evidence.period.start, evidence.period.end
        when = f"{start or '?'} → {end or 'ongoing'}"
    facts = [part for part in (when, evidence.value) if part]
    text = evidence.display + (f" ({'; '.join(facts)})" if facts else "")
    reference = f" — {evidence.reference}" if evidence.reference else ""
    return f"    - {markdown_text(text + reference)}"


def _evidence_lines(evidence: Iterable[Evidence]) -> list[str]:
    items = list(evidence)
    lines = [_evidence_line(e) for e in items[:EVIDENCE_SHOWN]]
    if len(items) > EVIDENCE_SHOWN:
        lines.append(f"    - and {len(items) - EVIDENCE_SHOWN} more record(s)")
    return lines


def _criterion_lines(criterion: CriterionAssessment) -> list[str]:
    lines = [f"- **{markdown_text(criterion.title)}**: {markdown_text(criterion.explanation)}"]
    lines += _evidence_lines(criterion.evidence)
    if criterion.resolve:
        lines.append(f"    - To resolve: {markdown_text(criterion.resolve)}")
    return lines


def _safety_lines(item: SafetyItem) -> list[str]:
    lines = [
        f"- **{markdown_text(item.title)}** ({_SEVERITY_WORDS[item.severity]}): "
        f"{markdown_text(item.explanation)}"
    ]
    if item.action:
        lines.append(f"    - Action: {markdown_text(item.action)}")
    if item.hold_days is not None:
        quoted = (
            f" (range quoted {item.hold_range_days[0]}–{item.hold_range_days[1]} days)"
            if item.hold_range_days
            else ""
        )
        lines.append(f"    - Hold for {item.hold_days} day(s) before the procedure{quoted}")
    lines += _evidence_lines(item.evidence)
    return lines


def candidacy_detail(assessment: Assessment, order_reference: str | None) -> str:
    order = assessment.order.description
    if order_reference:
        order = f"{order} ({order_reference})"
    policy = assessment.policy
    lines = [
        f"**{_OUTCOME_WORDS[assessment.outcome]}** for {markdown_text(order)}.",
        "",
        f"Policy: {markdown_text(policy.title)} ({markdown_text(policy.id)} "
        f"{markdown_text(policy.version)}), assessed for {assessment.today.isoformat()}.",
    ]
    sections: list[tuple[str, list[str]]] = [
        (
            "Criteria not met",
            [
                line
                for c in assessment.criteria
                if c.status == CriterionStatus.NOT_MET
                for line in _criterion_lines(c)
            ],
        ),
        (
            "Criteria unknown (the chart lacks the data)",
            [
                line
                for c in assessment.criteria
                if c.status == CriterionStatus.UNKNOWN
                for line in _criterion_lines(c)
            ],
        ),
        (
            "Before the procedure",
            [line for item in assessment.safety for line in _safety_lines(item)],
        ),
    ]
    met = [markdown_text(c.title) for c in assessment.criteria if c.status == CriterionStatus.MET]
    if met:
        sections.append(("Criteria met", [f"- {title}" for title in met]))
    if assessment.payer_notes:
        sections.append(
            (
                "Payer notes (information, not rules)",
                [f"- {markdown_text(note.text)}" for note in assessment.payer_notes],
            )
        )
    for heading, body in sections:
        if body:
            lines += ["", f"**{heading}**", "", *body]
    attested = ", ".join(assessment.attestations) or "none yet — give them in the app"
    lines += ["", f"Physician attestations: {markdown_text(attested)}."]
    return "\n".join(lines)
