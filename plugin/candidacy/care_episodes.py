"""Episodes of conservative care, and the spans they add up to.

An episode is one dated piece of care: a physical-therapy session (Procedure), a visit
(Encounter), a completed referral with its occurrence period (ServiceRequest), or a course of a
conservative-care drug. Episodes are merged into spans when the next begins no more than
`max_gap_days` after the last one ended; the length of a span is measured in calendar months
from its first to its last day of care.

Partial dates are measured twice: the *nominal* reading takes each date's first day ("2025-03"
→ 1 March, as a clinician reads it); the *strict* reading starts each episode on its latest
possible day and ends it on its earliest. A threshold met on the strict reading is certainly
met; one met on the nominal reading only depends on the missing precision.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from plugin.candidacy.context import AssessmentContext
from plugin.candidacy.partial_dates import PartialDate, months_between
from plugin.candidacy.policy import CareKind, ConservativeCareCriterion
from plugin.candidacy.policy_file import MEDICATION_CARE
from plugin.candidacy.record_status import status
from plugin.candidacy.selections import timing

__all__ = ["CareEpisode", "CareSpan", "Reading", "care_episodes", "care_spans"]

#: The records that document care other than medication.
_CARE_TYPES = ("Procedure", "Encounter", "ServiceRequest")
#: Statuses of records that document care given (event-status; encounter-status).
_PROCEDURE_DONE = frozenset({"completed", "in-progress", "stopped", "unknown"})
_ENCOUNTER_DONE = frozenset({"finished", "in-progress", "arrived", "triaged", "onleave", "unknown"})
_IN_PROGRESS = frozenset({"in-progress", "arrived", "triaged", "onleave", "active", "on-hold"})


class Reading(StrEnum):
    NOMINAL = "nominal"
    STRICT = "strict"


@dataclass(frozen=True, slots=True)
class CareEpisode:
    kind: str  # a care-kind id of the policy, or "medication"
    title: str  # "Physical therapy", or the drug's ingredient name
    resource: Mapping[str, Any]
    start: PartialDate
    end: PartialDate | None  # None: a single day, or ongoing
    ongoing: bool

    def first_day(self, reading: Reading) -> date:
        return self.start.earliest if reading is Reading.NOMINAL else self.start.latest

    def last_day(self, today: date) -> date:
        """The earliest day the episode may have ended (both readings): a single-day episode
        ends on the first day its date names; an ongoing one today."""
        if self.ongoing and (self.end is None or self.end.earliest > today):
            return max(today, self.start.earliest)
        return (self.end or self.start).earliest


@dataclass(frozen=True, slots=True)
class CareSpan:
    first: date
    last: date
    episodes: tuple[CareEpisode, ...]

    @property
    def months(self) -> int:
        return months_between(self.first, self.last)

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(e.kind for e in self.episodes)


def care_episodes(
    context: AssessmentContext, criterion: ConservativeCareCriterion
) -> tuple[CareEpisode, ...]:
    """Every dated episode of the criterion's care kinds and medication classes."""
    episodes: list[CareEpisode] = []
    kinds = _care_kinds(context, criterion)
    for resource in context.chart.of_type(*_CARE_TYPES):
        if not _documents_care(resource):
            continue
        kind = kinds.get(id(resource))
        if kind is None:
            continue
        when = timing(resource)
        if when.start is None:
            continue  # undated care cannot be measured
        ongoing = status(resource) in _IN_PROGRESS and when.end is None
        episodes.append(CareEpisode(kind.id, kind.title, resource, when.start, when.end, ongoing))
    seen: set[tuple[int, str]] = set()
    for course in context.courses_of(criterion.medication_classes):
        key = (id(course.resource), course.ingredient.name)
        if course.start is None or key in seen:
            continue
        seen.add(key)
        episodes.append(
            CareEpisode(
                MEDICATION_CARE,
                course.ingredient.name,
                course.resource,
                course.start,
                course.end,
                course.ongoing,
            )
        )
    return tuple(e for e in episodes if e.start.earliest <= context.today)


def _care_kinds(
    context: AssessmentContext, criterion: ConservativeCareCriterion
) -> dict[int, CareKind]:
    """The first of the criterion's care kinds each record matches, by the record's id: looked
    up in the chart's concept index (a long chart holds session after session of therapy)."""
    kinds: dict[int, CareKind] = {}
    for kind in criterion.care_kinds:
        for resource_type in _CARE_TYPES:
            for resource in context.matching(resource_type, kind.value_set):
                kinds.setdefault(id(resource), kind)
    return kinds


def _documents_care(resource: Mapping[str, Any]) -> bool:
    kind = resource.get("resourceType")
    value = status(resource)
    if kind == "Procedure":
        return value is None or value in _PROCEDURE_DONE
    if kind == "Encounter":
        return value is None or value in _ENCOUNTER_DONE
    # An active ServiceRequest is an order, not proof the care happened.
    return value == "completed"


def care_spans(
    episodes: Iterable[CareEpisode], reading: Reading, today: date, max_gap_days: int
) -> tuple[CareSpan, ...]:
    """Episodes merged into spans of care, earliest first."""
    # Each episode's days are read once; ties keep the episodes' order (a stable sort).
    ordered = sorted(
        (episode.first_day(reading), episode.last_day(today), episode.kind, position, episode)
        for position, episode in enumerate(episodes)
    )
    merged: list[tuple[date, date, list[CareEpisode]]] = []
    for first, last, _, _, episode in ordered:
        # The gap as a difference of days: a span ending 9999-12-31 (an EHR's "no end") plus
        # the gap would be past the calendar.
        if merged and (first - merged[-1][1]).days <= max_gap_days:
            start, end, members = merged[-1]
            members.append(episode)
            if last > end:
                merged[-1] = (start, last, members)
        else:
            merged.append((first, last, [episode]))
    return tuple(CareSpan(first, last, tuple(members)) for first, last, members in merged)
