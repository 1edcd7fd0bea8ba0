"""Allergies that change the procedure: contrast media (SNOMED CT 293637006; premedication or
not a candidate), local anaesthetics, and antibiotics — a cephalosporin allergy changes the
intradiscal antibiotic (shared/clinical.md §4; seed 002; 78stepshealth).

An AllergyIntolerance counts while current (not refuted, not resolved); it matches a policy
rule by its code or by the substance of any of its reactions — by a listed code, or by its words
also when coded with a code the policy does not list (a SNOMED CT substance "Contrast media"):
an allergy item only asks the proceduralist to act, so words are enough to raise it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugin.candidacy.assessment import SafetyItem, SafetyKind
from plugin.candidacy.context import AssessmentContext
from plugin.candidacy.elements import repeating
from plugin.candidacy.evidence import evidence
from plugin.candidacy.phrases import listing, named
from plugin.candidacy.record_status import is_current
from plugin.candidacy.value_sets import concept_texts

__all__ = ["allergy_items"]

Resource = Mapping[str, Any]


def allergy_items(context: AssessmentContext) -> list[SafetyItem]:
    allergies = [a for a in context.chart.of_type("AllergyIntolerance") if is_current(a)]
    items: list[SafetyItem] = []
    for rule in context.policy.allergies:
        matched = [
            a
            for a in allergies
            if rule.value_set.match_any(_substances(a), context.known_codes) is not None
        ]
        if not matched:
            continue
        items.append(
            SafetyItem(
                id=f"allergy-{rule.id}",
                kind=SafetyKind.ALLERGY,
                severity=rule.severity,
                title=rule.title,
                explanation=f"{listing(_described(a) for a in matched)}.",
                action=rule.action,
                evidence=tuple(evidence(a, value=_criticality(a)) for a in matched),
            )
        )
    return items


def _substances(allergy: Resource) -> list[Any]:
    concepts = [allergy.get("code")]
    for reaction in repeating(allergy.get("reaction")):
        if isinstance(reaction, Mapping):
            concepts.append(reaction.get("substance"))
    return [c for c in concepts if isinstance(c, Mapping)]


def _criticality(allergy: Resource) -> str | None:
    value = allergy.get("criticality")
    return f"criticality {value}" if isinstance(value, str) else None


def _described(allergy: Resource) -> str:
    """ "Iodinated contrast (AllergyIntolerance/a1), criticality high; reaction: hives"."""
    parts = [named(allergy)]
    criticality = _criticality(allergy)
    if criticality:
        parts.append(criticality)
    manifestations = [
        text
        for reaction in repeating(allergy.get("reaction"))
        if isinstance(reaction, Mapping)
        for concept in repeating(reaction.get("manifestation"))
        for text in concept_texts(concept)[:1]
    ]
    text = ", ".join(parts)
    if manifestations:
        text += f"; reaction: {listing(sorted(set(manifestations)))}"
    return text
