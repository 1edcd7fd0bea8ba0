"""The candidacy engine: a chart, an order, a policy, attestations and a date in; an
assessment out. Pure: it reads no clock, file or network — the caller passes `today` and the
policy (the shipped default when none is given).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from plugin.candidacy.assessment import Assessment, PayerNoteItem
from plugin.candidacy.chart import Chart
from plugin.candidacy.context import AssessmentContext
from plugin.candidacy.criteria import assess_criterion
from plugin.candidacy.order import Order
from plugin.candidacy.outcome import decide_outcome
from plugin.candidacy.policy import Policy
from plugin.candidacy.policy_file import default_policy
from plugin.candidacy.safety import safety_items
from plugin.errors import InputProblemError, Problem

__all__ = ["assess_candidacy", "parse_attestations"]


def parse_attestations(values: Iterable[str], policy: Policy | None = None) -> tuple[str, ...]:
    """Attestation ids from user input ("imaging-inconclusive,decision-hinges" may be split by
    the caller or given whole), checked against the policy; sorted, each once."""
    policy = policy or default_policy()
    known = {a.id for a in policy.attestations}
    found: set[str] = set()
    problems: list[Problem] = []
    for value in values:
        for part in value.split(","):
            name = part.strip()
            if not name:
                continue
            if name not in known:
                problems.append(
                    Problem(
                        "attestations",
                        "unknown-attestation",
                        f"unknown attestation {name!r}; expected one of {', '.join(sorted(known))}",
                    )
                )
            found.add(name)
    if problems:
        raise InputProblemError(problems, "attestations")
    return tuple(sorted(found))


def assess_candidacy(
    chart: Chart,
    *,
    today: date,
    order: Order | None = None,
    attestations: Iterable[str] = (),
    policy: Policy | None = None,
) -> Assessment:
    """Assess the patient's candidacy for the order. `attestations` are ids the policy defines
    (an unknown id is an `InputProblemError`)."""
    policy = policy or default_policy()
    attested = parse_attestations(attestations, policy)
    order = order or Order()
    context = AssessmentContext(chart, order, policy, frozenset(attested), today)
    criteria = tuple(assess_criterion(context, criterion) for criterion in policy.criteria)
    safety = safety_items(context)
    outcome, reasons, summary = decide_outcome(policy.outcome, criteria, safety)
    notes = tuple(
        PayerNoteItem(id=note.id, text=note.text, citation=note.citation, regions=note.regions)
        for note in policy.payer_notes
        if order.region is None or order.region in note.regions
    )
    return Assessment(
        policy=policy.ref,
        outcome=outcome,
        summary=summary,
        today=today,
        order=order,
        attestations=attested,
        criteria=criteria,
        safety=safety,
        payer_notes=notes,
        reasons=reasons,
    )
