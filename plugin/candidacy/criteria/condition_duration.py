"""Persistent axial pain: a matching condition whose onset is at least N months ago
(method ``condition-duration``; shared/clinical.md §4, Anthem CG-SURG-29).

The onset is the condition's `onset[x]`, or — when the chart gives none — its `recordedDate`
(the pain existed at least since then). A partial onset ("2025-03") meets the threshold when
its latest day does, fails it when its earliest day does, and is otherwise unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from plugin.candidacy.assessment import CriterionAssessment, CriterionStatus, Evidence
from plugin.candidacy.context import AssessmentContext
from plugin.candidacy.evidence import evidence
from plugin.candidacy.partial_dates import PartialDate, add_months, duration_words, months_between
from plugin.candidacy.phrases import listing, months, named
from plugin.candidacy.policy import ConditionDurationCriterion, WhenAbsent
from plugin.candidacy.selections import recorded_date, timing

__all__ = ["assess_condition_duration"]

Resource = Mapping[str, Any]
_PAIN_SCORES_SHOWN = 3


@dataclass(frozen=True, slots=True)
class _Dated:
    condition: Resource
    onset: PartialDate | None
    from_recorded: bool  # dated by recordedDate, not by onset


def assess_condition_duration(
    context: AssessmentContext, criterion: ConditionDurationCriterion
) -> CriterionAssessment:
    today = context.today
    matching = context.current_conditions(criterion.conditions)
    relevant = [
        c for c in matching if not criterion.region_specific or context.in_ordered_region(c)
    ]
    elsewhere = [c for c in matching if c not in relevant]
    dated = sorted((_dated(c) for c in relevant), key=_onset_key)
    need = criterion.min_duration_months
    threshold = f"≥ {months(need)}"

    def result(
        status: CriterionStatus, explanation: str, resolve: str | None = None
    ) -> CriterionAssessment:
        shown = [_evidence(d) for d in dated] + _pain_scores(context, criterion)
        return CriterionAssessment(
            id=criterion.id,
            title=criterion.title,
            status=status,
            explanation=explanation,
            evidence=tuple(shown),
            resolve=resolve,
        )

    certain = [
        d for d in dated if d.onset is not None and months_between(d.onset.latest, today) >= need
    ]
    if certain:
        best = certain[0]
        assert best.onset is not None
        return result(
            CriterionStatus.MET,
            f"{_since(best)}: {duration_words(best.onset.latest, today)} meets {threshold}.",
        )
    possible = [
        d for d in dated if d.onset is not None and months_between(d.onset.earliest, today) >= need
    ]
    if possible:
        best = possible[0]
        assert best.onset is not None
        return result(
            CriterionStatus.UNKNOWN,
            f"{_since(best)} is charted only to the {best.onset.precision.value}: between "
            f"{duration_words(best.onset.latest, today)} and "
            f"{duration_words(best.onset.earliest, today)}, so {threshold} cannot be decided.",
            f"Record the exact onset date of {named(best.condition)}.",
        )
    undated = [d for d in dated if d.onset is None]
    if undated:
        return result(
            CriterionStatus.UNKNOWN,
            f"{listing(named(d.condition) for d in undated)} has no onset or recorded date, "
            f"so {threshold} of pain cannot be shown.",
            "Record when the pain began (the condition's onset date).",
        )
    if dated:
        best = dated[0]
        assert best.onset is not None
        return result(
            CriterionStatus.NOT_MET,
            f"{_since(best)}: {duration_words(best.onset.earliest, today)} is less than "
            f"{months(need)}.",
            f"Re-assess when the pain has lasted {months(need)} "
            f"(from {add_months(best.onset.earliest, need).isoformat()}).",
        )
    region = f" of the {context.order.region.value} region" if context.order.region else ""
    other = f" ({listing(named(c) for c in elsewhere)} is in another region)" if elsewhere else ""
    status = (
        CriterionStatus.UNKNOWN
        if criterion.when_absent is WhenAbsent.UNKNOWN
        else CriterionStatus.NOT_MET
    )
    return result(
        status,
        f"No active back or neck pain or disc disorder{region} is on the problem list{other}.",
        f"Add the pain or disc diagnosis{region} with its onset date to the problem list.",
    )


def _dated(condition: Resource) -> _Dated:
    onset = timing(condition).start
    if onset is not None:
        return _Dated(condition, onset, False)
    return _Dated(condition, recorded_date(condition), True)


def _onset_key(dated: _Dated) -> tuple[int, str, str]:
    if dated.onset is None:
        return (1, "", str(dated.condition.get("id", "")))
    return (0, dated.onset.earliest.isoformat(), str(dated.condition.get("id", "")))


def _since(dated: _Dated) -> str:
    assert dated.onset is not None
    if dated.from_recorded:
        return f"{named(dated.condition)}, recorded {dated.onset} (no onset date charted)"
    return f"{named(dated.condition)} since {dated.onset}"


def _evidence(dated: _Dated) -> Evidence:
    if dated.onset is None:
        return evidence(dated.condition, value="no onset date")
    value = "recorded date (no onset charted)" if dated.from_recorded else "onset"
    return evidence(dated.condition, date=dated.onset, value=value)


def _pain_scores(
    context: AssessmentContext, criterion: ConditionDurationCriterion
) -> list[Evidence]:
    """The latest pain scores, shown beside the conditions as supporting evidence."""
    if criterion.pain_scores.empty:
        return []
    scored: list[tuple[str, Evidence]] = []
    for observation in context.matching("Observation", criterion.pain_scores):
        when = timing(observation).start or recorded_date(observation)
        if when is None or when.earliest > context.today:
            continue
        value = _score(observation)
        if value is None:
            continue
        scored.append((when.earliest.isoformat(), evidence(observation, date=when, value=value)))
    scored.sort(key=lambda item: (item[0], item[1].reference or ""), reverse=True)
    return [item[1] for item in scored[:_PAIN_SCORES_SHOWN]]


def _score(observation: Resource) -> str | None:
    quantity = observation.get("valueQuantity")
    raw = quantity.get("value") if isinstance(quantity, Mapping) else None
    if raw is None:
        raw = observation.get("valueInteger")
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    return f"{raw:g}/10"
