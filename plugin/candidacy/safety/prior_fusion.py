"""Prior spinal fusion: a fused disc cannot be injected, yet evaluating a failed fusion is a
valid indication (shared/clinical.md §4, seed 000) — so a fusion is evidence to act on, not a
contraindication by default.

Fusion records are Procedures (done) and Conditions (any clinical status: a history of fusion
stays true) whose words name a spinal fusion — a term spinal by itself (ACDF, TLIF, "spinal
fusion"), or "fusion"/"arthrodesis" with a spinal region or disc level named. Levels come from
the text ("L4-5", "L3-L5") or SNOMED CT disc codes in `bodySite`. Against the order: a fused
ordered level, or a fusion in the region whose levels are unknown, needs action; a fusion at
other levels or in another region is information.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from plugin.candidacy.assessment import SafetyItem, SafetyKind
from plugin.candidacy.context import AssessmentContext
from plugin.candidacy.elements import repeating
from plugin.candidacy.evidence import evidence, main_concepts
from plugin.candidacy.level_mentions import levels_in_concepts
from plugin.candidacy.phrases import listing, named
from plugin.candidacy.record_status import status
from plugin.study.levels import Region, adjacent_levels, level_index, region_of

__all__ = ["fusion_items"]

Resource = Mapping[str, Any]
_DONE = frozenset({"completed", "in-progress", "unknown"})


@dataclass(frozen=True, slots=True)
class _Fusion:
    resource: Resource
    levels: tuple[str, ...]
    regions: frozenset[Region]
    mentions: tuple[Resource, ...] = ()  # level-less records taken to mean this fusion


def fusion_items(context: AssessmentContext) -> list[SafetyItem]:
    rules = context.policy.prior_fusion
    order = context.order
    items: list[SafetyItem] = []
    for fusion in _fusions(context):
        label = named(fusion.resource)
        where = f" at {', '.join(fusion.levels)}" if fusion.levels else ""
        shown = (
            evidence(fusion.resource, value=", ".join(fusion.levels) or None),
            *(evidence(mention) for mention in fusion.mentions),
        )
        fused_ordered = [level for level in fusion.levels if level in order.levels]
        other_region = (
            order.region is not None and fusion.regions and order.region not in fusion.regions
        )
        key = "-".join(fusion.levels) or str(fusion.resource.get("id") or len(items))
        if fused_ordered:
            # The discs next to the fused block: where a failed fusion is usually tested.
            adjacent = sorted(
                {a for level in fusion.levels for a in adjacent_levels(level)} - set(fusion.levels),
                key=level_index,
            )
            items.append(
                SafetyItem(
                    id=f"prior-fusion-{key}",
                    kind=SafetyKind.PRIOR_FUSION,
                    severity=rules.at_ordered_level,
                    title=f"Ordered level {listing(fused_ordered)} was fused",
                    explanation=f"{label} fused {listing(fused_ordered)}, which the order "
                    "includes: a fused disc cannot be injected.",
                    action=f"Remove {listing(fused_ordered)} from the order; to evaluate a failed "
                    f"fusion, test the adjacent levels ({listing(adjacent) or 'none'}) and attest "
                    "that the treatment decision depends on the result.",
                    evidence=shown,
                )
            )
        elif other_region or (fusion.levels and order.levels):
            items.append(
                SafetyItem(
                    id=f"prior-fusion-{key}",
                    kind=SafetyKind.PRIOR_FUSION,
                    severity=rules.other_level,
                    title=f"Prior spinal fusion{where}",
                    explanation=f"{label}{where}; not at an ordered level.",
                    action="Take the fusion into account when choosing the levels and controls.",
                    evidence=shown,
                )
            )
        else:
            unknown_part = (
                "its fused levels are not recorded"
                if not fusion.levels
                else "the order does not name its levels"
            )
            items.append(
                SafetyItem(
                    id=f"prior-fusion-{key}",
                    kind=SafetyKind.PRIOR_FUSION,
                    severity=rules.level_unknown,
                    title=f"Prior spinal fusion{where}",
                    explanation=f"{label}{where}: {unknown_part}, so a fused level may be ordered.",
                    action="Confirm that no ordered level is fused (a fused disc cannot be "
                    "injected).",
                    evidence=shown,
                )
            )
    return items


def _fusions(context: AssessmentContext) -> list[_Fusion]:
    rules = context.policy.prior_fusion
    fusions: list[_Fusion] = []
    for resource in context.chart.of_type("Procedure", "Condition"):
        if resource["resourceType"] == "Procedure":
            value = status(resource)
            if value is not None and value not in _DONE:
                continue
        texts = context.texts_of(resource)
        spinal = context.in_words(rules.spinal_procedures, texts)
        if not spinal and not context.in_words(rules.procedures, texts):
            continue
        concepts = [*main_concepts(resource), *repeating(resource.get("bodySite"))]
        levels = levels_in_concepts(concepts)
        regions = context.regions_of(resource) | {region_of(level) for level in levels}
        if not spinal and not levels and not regions:
            continue  # "ankle arthrodesis": not spinal
        fusions.append(_Fusion(resource, levels, frozenset(regions)))
    return _merged(fusions)


def _merged(fusions: list[_Fusion]) -> list[_Fusion]:
    """One item per fusion: records naming the same levels are one fusion (the Procedure
    leads), and a record naming no level ("low back pain after lumbar fusion") is taken to mean
    a fusion with known levels in the same region, when there is one."""
    by_levels: dict[tuple[str, ...], list[_Fusion]] = {}
    for fusion in fusions:
        if fusion.levels:
            by_levels.setdefault(fusion.levels, []).append(fusion)
    merged: list[_Fusion] = []
    for levels in sorted(by_levels):
        group = sorted(by_levels[levels], key=_lead_first)
        merged.append(
            _Fusion(
                group[0].resource,
                levels,
                frozenset().union(*(f.regions for f in group)),
                tuple(f.resource for f in group[1:]),
            )
        )
    for fusion in sorted((f for f in fusions if not f.levels), key=_lead_first):
        host = next(
            (
                i
                for i, known in enumerate(merged)
                if known.levels and (not fusion.regions or fusion.regions & known.regions)
            ),
            None,
        )
        if host is None:
            merged.append(fusion)
        else:
            known = merged[host]
            merged[host] = _Fusion(
                known.resource, known.levels, known.regions, (*known.mentions, fusion.resource)
            )
    return merged


def _lead_first(fusion: _Fusion) -> tuple[int, str]:
    procedure_first = 0 if fusion.resource["resourceType"] == "Procedure" else 1
    return (procedure_first, str(fusion.resource.get("id", "")))
