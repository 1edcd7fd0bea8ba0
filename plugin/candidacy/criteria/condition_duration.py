"""Persistent axial pain: a matching condition whose onset is at least N months ago
(method ``condition-duration``; shared/clinical.md §4, Anthem CG-SURG-29).

The onset is the condition's `onset[x]`: a date, a period (its start), or an age (the year of
life it names, from the birth date). A partial onset ("2025-03") meets the threshold when its
latest day does, fails it when its earliest day does, and is otherwise unknown. Without a
dated onset the `recordedDate` shows only that the pain existed at least since then: it can
meet the threshold when old enough, never fail it — a recent recorded date is unknown, resolved
by the onset. An `onsetString` ("since 2019") cannot be measured but is shown as evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from plugin.candidacy.assessment import CriterionAssessment, CriterionStatus, Evidence
from plugin.candidacy.context import AssessmentContext
from plugin.candidacy.evidence import evidence
from plugin.candidacy.partial_dates import (
    PartialDate,
    Precision,
    add_months,
    duration_words,
    months_between,
    parse_partial_date,
)
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
    onset_words: str | None = None  # an onsetString, shown as the chart gives it


def assess_condition_duration(
    context: AssessmentContext, criterion: ConditionDurationCriterion
) -> CriterionAssessment:
    today = context.today
    matching = context.current_conditions(criterion.conditions)
    relevant = [
        c for c in matching if not criterion.region_specific or context.in_ordered_region(c)
    ]
    elsewhere = [c for c in matching if c not in relevant]
    dated = sorted((_dated(context, c) for c in relevant), key=_onset_key)
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
    # A recorded date is a lower bound of the pain's duration: too recent, it decides nothing.
    recorded_only = [d for d in dated if d.from_recorded]
    undated = [d for d in dated if d.onset is None]
    if undated or recorded_only:
        named_words = listing(_unsure_words(d, today) for d in [*recorded_only, *undated])
        return result(
            CriterionStatus.UNKNOWN,
            f"{named_words}, so {threshold} of pain cannot be shown.",
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


def _dated(context: AssessmentContext, condition: Resource) -> _Dated:
    onset = timing(condition).start or _onset_age(context, condition)
    words = condition.get("onsetString")
    words = words.strip() if isinstance(words, str) and words.strip() else None
    if onset is not None:
        return _Dated(condition, onset, False, words)
    return _Dated(condition, recorded_date(condition), True, words)


def _onset_age(context: AssessmentContext, condition: Resource) -> PartialDate | None:
    """The days an `onsetAge` in years can mean: from the birthday it names to the day before
    the next one (None without a birth date, or for an age in another unit)."""
    age = condition.get("onsetAge")
    patient = context.chart.patient
    if not isinstance(age, Mapping) or patient is None:
        return None
    value = age.get("value")
    unit = str(age.get("code") or age.get("unit") or "").strip().lower()
    born = parse_partial_date(patient.get("birthDate"))
    if born is None or unit not in ("a", "year", "years", "yr", "yrs"):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 150:
        return None
    years = int(value)
    earliest = add_months(born.earliest, 12 * years)
    latest = add_months(born.latest, 12 * (years + 1)) - timedelta(days=1)
    return PartialDate(earliest, latest, f"age {years}", Precision.YEAR)


def _unsure_words(dated: _Dated, today: date) -> str:
    """Why one condition's duration cannot be shown."""
    said = f" (onset charted as “{dated.onset_words}”)" if dated.onset_words else ""
    if dated.onset is None:
        return f"{named(dated.condition)} has no onset or recorded date{said}"
    missing = "" if dated.onset_words else ", with no onset date charted"
    return (
        f"{named(dated.condition)} was recorded {dated.onset}{said}{missing}: the pain has "
        f"lasted at least since then ({duration_words(dated.onset.earliest, today)})"
    )


def _onset_key(dated: _Dated) -> tuple[int, str, str]:
    if dated.onset is None:
        return (1, "", str(dated.condition.get("id", "")))
    return (0, dated.onset.earliest.isoformat(), str(dated.condition.get("id", "")))


def _since(dated: _Dated) -> str:
    assert dated.onset is not None
    if dated.from_recorded:
        onset = f'onset charted as "{dated.onset_words}"' if dated.onset_words else "no onset date"
        return f"{named(dated.condition)}, recorded {dated.onset} ({onset} charted)"
    return f"{named(dated.condition)} since {dated.onset}"


def _evidence(dated: _Dated) -> Evidence:
    said = f'onset charted as "{dated.onset_words}"' if dated.onset_words else None
    if dated.onset is None:
        return evidence(dated.condition, value=said or "no onset date")
    value = f"recorded date ({said or 'no onset charted'})" if dated.from_recorded else "onset"
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
