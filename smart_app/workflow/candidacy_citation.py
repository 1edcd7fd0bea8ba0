"""How the report's indication cites the candidacy assessment the physician saw: the
assessment in words (render_report's `candidacy_summary`), the criteria met (the study's
`indication.criteria_met`) and the chart records behind them that FHIR accepts as reasons
(`indication.reason_references`: the pain conditions and the spine MRI report).

Pure: the assessment, the policy and the chart gaps come in; text and references go out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from plugin.candidacy.assessment import Assessment, CriterionStatus
from plugin.candidacy.policy import Policy, Severity
from plugin.fhir_mapping.references import ALLOWED_TARGETS, referenced_type
from smart_app.workflow.chart_reading import ChartGap

__all__ = [
    "MAX_CRITERION_CHARACTERS",
    "MAX_REASON_REFERENCES",
    "CandidacyCitation",
    "cite_assessment",
]

#: Enough to point at the diagnosis and the imaging; the full evidence stays on the page.
MAX_REASON_REFERENCES = 8
# The diagnoses and the imaging report; therapy sessions and pain scores stay on the page.
_REASON_TYPES = frozenset(ALLOWED_TARGETS["indication.reason_references"]) & {
    "Condition",
    "DiagnosticReport",
    "DocumentReference",
}
#: A study's text fields hold at most 2000 characters; a criterion's line stays well inside.
MAX_CRITERION_CHARACTERS = 1000


@dataclass(frozen=True, slots=True)
class CandidacyCitation:
    summary: str
    criteria_met: tuple[str, ...]
    reason_references: tuple[str, ...]


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _shortened(text: str) -> str:
    if len(text) <= MAX_CRITERION_CHARACTERS:
        return text
    return text[: MAX_CRITERION_CHARACTERS - 1].rstrip() + "…"


def cite_assessment(
    assessment: Assessment, policy: Policy, gaps: Sequence[ChartGap] = ()
) -> CandidacyCitation:
    """The citation of `assessment` (made under `policy`) for the study's indication."""
    policy_ref = assessment.policy
    parts = [
        f"Candidacy assessed on {assessment.today.isoformat()} under policy {policy_ref.id} "
        f"{policy_ref.version} ({policy_ref.title}): {_sentence(assessment.summary)}"
    ]
    texts = {a.id: a.text for a in policy.attestations}
    attested = [texts.get(a, a) for a in assessment.attestations]
    if attested:
        parts.append("The physician attested: " + " ".join(_sentence(a) for a in attested))
    open_criteria = [c for c in assessment.criteria if c.status is not CriterionStatus.MET]
    for criterion in open_criteria:
        explanation = _sentence(criterion.explanation)
        parts.append(f"{criterion.title} — {criterion.status.value}: {explanation}")
    for item in assessment.safety:
        if item.severity is Severity.INFO:
            continue
        action = f" {_sentence(item.action)}" if item.action else ""
        parts.append(f"Safety ({item.severity.value}): {_sentence(item.title)}{action}")
    if gaps:
        missing = "; ".join(f"{gap.resource_type} {gap.reason}" for gap in gaps)
        parts.append(f"Parts of the chart were not read: {missing}.")
    met = tuple(
        _shortened(f"{c.title}: {c.explanation.strip()}")
        for c in assessment.criteria
        if c.status is CriterionStatus.MET
    )
    references: dict[str, None] = {}
    for criterion in assessment.criteria:
        if criterion.status is not CriterionStatus.MET:
            continue
        for evidence in criterion.evidence:
            ref = evidence.reference
            if ref is not None and referenced_type(ref) in _REASON_TYPES:
                references.setdefault(ref, None)
    return CandidacyCitation(
        summary=" ".join(parts),
        criteria_met=met,
        reason_references=tuple(references)[:MAX_REASON_REFERENCES],
    )
