"""How the report's indication cites the candidacy assessment the clinician saw: the
assessment in words (render_report's `candidacy_summary`), naming who gave each attestation
and when — never "the physician": the app cannot tell who is one — the criteria met (the
study's `indication.criteria_met`) and the chart records behind them that FHIR accepts as
reasons (`indication.reason_references`: the pain conditions and the spine MRI report).

Pure: the assessment, the policy, the chart gaps and who attested come in; text and
references go out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from plugin.candidacy.assessment import Assessment, CriterionStatus
from plugin.candidacy.policy import Policy, Severity
from plugin.fhir_mapping.references import ALLOWED_TARGETS, referenced_type
from smart_app.workflow.candidacy_attesters import GivenAttestation
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


def _attested(
    assessment: Assessment, policy: Policy, given: Sequence[GivenAttestation]
) -> list[str]:
    """One sentence per person and day: "Attested by <name> (<role>) on <date>: …"."""
    texts = {a.id: a.text for a in policy.attestations}
    records = {g.id: g for g in given}
    groups: dict[str, list[str]] = {}
    for attestation in assessment.attestations:
        record = records.get(attestation)
        head = (
            f"Attested by {record.attester.words} on {record.given_on}"
            if record is not None
            else "Attested (by whom was not recorded)"
        )
        groups.setdefault(head, []).append(_sentence(texts.get(attestation, attestation)))
    return [f"{head}: {' '.join(sentences)}" for head, sentences in groups.items()]


def cite_assessment(
    assessment: Assessment,
    policy: Policy,
    gaps: Sequence[ChartGap] = (),
    attested: Sequence[GivenAttestation] = (),
) -> CandidacyCitation:
    """The citation of `assessment` (made under `policy`) for the study's indication;
    `attested` says who gave its attestations and when."""
    policy_ref = assessment.policy
    parts = [
        f"Candidacy assessed on {assessment.today.isoformat()} under policy {policy_ref.id} "
        f"{policy_ref.version} ({policy_ref.title}): {_sentence(assessment.summary)}"
    ]
    parts.extend(_attested(assessment, policy, attested))
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
