"""Failed conservative care: at least N months of documented care including each required
kind — by default physical therapy and an NSAID or analgesic (method ``conservative-care``;
shared/clinical.md §4, Anthem CG-SURG-29, seed 002).

Care is measured, not guessed: the episodes (`plugin.candidacy.care_episodes`) are merged
into spans, and a span counts when it contains every required kind and lasts the threshold.
Care a record places in another spinal region than the order's (by body site, reason or
words: "physical therapy, lumbar spine" for a cervical order) is not care for this order; care
naming no region counts. Not met is given only when the chart shows it: when the shortfall
could be the chart's silence — a medication dated only by the day its statement was recorded
(it began on or before then), or care recognised only by its words despite a code the policy
does not list — the criterion is unknown, with those records and what resolves it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from plugin.candidacy.assessment import (
    CriterionAssessment,
    CriterionStatus,
    Evidence,
    EvidencePeriod,
)
from plugin.candidacy.care_episodes import CareEpisode, CareSpan, Reading, care_episodes, care_spans
from plugin.candidacy.chart import reference_of
from plugin.candidacy.context import AssessmentContext
from plugin.candidacy.elements import repeating
from plugin.candidacy.evidence import resource_label
from plugin.candidacy.partial_dates import PartialDate, add_months, duration_words
from plugin.candidacy.phrases import listing, months, sentence
from plugin.candidacy.policy import ConservativeCareCriterion, WhenAbsent
from plugin.candidacy.policy_file import MEDICATION_CARE
from plugin.candidacy.value_sets import Match, concept_texts

__all__ = ["assess_conservative_care"]


def assess_conservative_care(
    context: AssessmentContext, criterion: ConservativeCareCriterion
) -> CriterionAssessment:
    today = context.today
    need = criterion.min_duration_months
    found = care_episodes(context, criterion)
    # Each episode is judged once (comparing episodes would compare their whole records).
    for_order = [_for_order(context, e) for e in found]
    episodes = tuple(e for e, counted in zip(found, for_order, strict=True) if counted)
    elsewhere = [e for e, counted in zip(found, for_order, strict=True) if not counted]
    wanted = _requirement_words(criterion)
    if not episodes:
        status = (
            CriterionStatus.UNKNOWN
            if criterion.when_absent is WhenAbsent.UNKNOWN
            else CriterionStatus.NOT_MET
        )
        return CriterionAssessment(
            id=criterion.id,
            title=criterion.title,
            status=status,
            explanation=f"No dated conservative care is documented in the chart; the policy "
            f"needs ≥ {months(need)} including {wanted}.",
            resolve=f"Attach the records of conservative care ({wanted}) with their dates.",
        )
    nominal = care_spans(episodes, Reading.NOMINAL, today, criterion.max_gap_days)
    strict = care_spans(episodes, Reading.STRICT, today, criterion.max_gap_days)
    best = max(nominal, key=lambda span: _rank(span, criterion))
    summary = _summary(best, today)
    total = (
        f"{duration_words(best.first, best.last)} of documented care "
        f"({best.first.isoformat()} → {best.last.isoformat()})"
    )
    shown = tuple(_evidence(e, today) for e in best.episodes)

    def result(
        status: CriterionStatus, explanation: str, resolve: str | None = None
    ) -> CriterionAssessment:
        return CriterionAssessment(
            id=criterion.id,
            title=criterion.title,
            status=status,
            explanation=sentence(explanation),
            evidence=shown,
            resolve=resolve,
        )

    if any(_qualifies(span, criterion) for span in strict):
        return result(CriterionStatus.MET, f"{summary}: {total} meets ≥ {months(need)}.")
    if any(_qualifies(span, criterion) for span in nominal):
        strict_best = max(
            (s for s in strict if _missing(s, criterion) == []),
            key=lambda s: s.months,
            default=None,
        )
        least = duration_words(strict_best.first, strict_best.last) if strict_best else "less"
        return result(
            CriterionStatus.UNKNOWN,
            f"{summary}: {total} if each partial date is read as its first day, but only "
            f"{least} at the least, so ≥ {months(need)} cannot be decided.",
            "Record the exact start and end dates of the care charted only to the month or year.",
        )
    doubt = _doubt(context, criterion, episodes)
    if doubt is not None:
        return doubt
    missing = _missing(best, criterion)
    gaps = (
        f" (care separated by more than {criterion.max_gap_days} days is counted as separate "
        f"spans; this is the longest)"
        if len(nominal) > 1
        else ""
    )
    lacking = f" and has no {listing(missing)}" if missing else ""
    if elsewhere:
        regions = listing(
            sorted({r.value for e in elsewhere for r in context.regions_of(e.resource)})
        )
        gaps += (
            f" ({len(elsewhere)} care record(s) of the {regions} region are not counted for "
            f"this {context.order.region.value if context.order.region else ''} order)"
        )
    short = best.months < need
    verdict = (
        f"is less than {months(need)}{lacking}" if short else f"lasts ≥ {months(need)}{lacking}"
    )
    resolve_parts: list[str] = []
    if missing:
        resolve_parts.append(f"document {listing(missing)}")
    if short:
        resolve_parts.append(
            f"re-assess when care has lasted {months(need)} "
            f"(from {add_months(best.first, need).isoformat()})"
        )
    return result(
        CriterionStatus.NOT_MET,
        f"{summary}: {total} {verdict}{gaps}.",
        sentence(" and ".join(resolve_parts) + ".") if resolve_parts else None,
    )


def _requirement_words(criterion: ConservativeCareCriterion) -> str:
    return listing(r.title for r in criterion.required) or "any care"


def _missing(span: CareSpan, criterion: ConservativeCareCriterion) -> list[str]:
    kinds = span.kinds
    return [r.title for r in criterion.required if not kinds.intersection(r.any_of)]


def _qualifies(span: CareSpan, criterion: ConservativeCareCriterion) -> bool:
    return span.months >= criterion.min_duration_months and not _missing(span, criterion)


def _rank(span: CareSpan, criterion: ConservativeCareCriterion) -> tuple[int, int, int, date]:
    return (
        int(_qualifies(span, criterion)),
        -len(_missing(span, criterion)),
        (span.last - span.first).days,
        span.last,
    )


@dataclass(frozen=True, slots=True)
class _Group:
    title: str
    first: PartialDate
    last: PartialDate
    last_day: date
    ongoing: bool
    count: int


def _summary(span: CareSpan, today: date) -> str:
    """ "Physical therapy 2025-01-10 → 2025-04-02 (11 weeks, 12 records) and naproxen 2025-01 →
    2025-06 (5 months)"."""
    groups: dict[tuple[int, str], list[CareEpisode]] = {}
    for episode in span.episodes:
        order = 1 if episode.kind == MEDICATION_CARE else 0
        groups.setdefault((order, episode.title), []).append(episode)
    parts = [_group_words(_group(items, today)) for _, items in sorted(groups.items())]
    return listing(parts)


def _group(items: Sequence[CareEpisode], today: date) -> _Group:
    first = min((e.start for e in items), key=lambda d: (d.earliest, d.text))
    ends = [(e.last_day(today), e.end or e.start) for e in items]
    last_day, last = max(ends, key=lambda pair: (pair[0], pair[1].text))
    ongoing = any(e.ongoing and e.last_day(today) >= today for e in items)
    return _Group(items[0].title, first, last, last_day, ongoing, len(items))


def _group_words(group: _Group) -> str:
    title = group.title
    length = duration_words(group.first.earliest, group.last_day)
    records = f", {group.count} records" if group.count > 1 else ""
    if group.ongoing:
        return f"{title} since {group.first} (ongoing, {length}{records})"
    if group.last_day <= group.first.earliest:
        return f"{title} {group.first}{' (' + records[2:] + ')' if records else ''}"
    return f"{title} {group.first} → {group.last} ({length}{records})"


def _evidence(episode: CareEpisode, today: date) -> Evidence:
    ongoing = episode.ongoing and episode.last_day(today) >= today
    end = None if ongoing else (episode.end.text if episode.end else None)
    period = (
        EvidencePeriod(start=episode.start.text, end=end)
        if ongoing or (episode.end is not None and episode.end != episode.start)
        else None
    )
    label = resource_label(episode.resource)
    return Evidence(
        reference=reference_of(episode.resource),
        display=label,
        date=None if period else episode.start.text,
        period=period,
        value=f"{episode.title} (ongoing)" if ongoing else episode.title,
    )


def _for_order(context: AssessmentContext, episode: CareEpisode) -> bool:
    """Whether care may be for the ordered region: a medication always; other care unless
    its record names only other spinal regions (body site, reason, words)."""
    region = context.order.region
    if episode.kind == MEDICATION_CARE or region is None:
        return True
    resource = episode.resource
    named_regions = context.regions_of(resource)
    reasons = [t for c in repeating(resource.get("reasonCode")) for t in concept_texts(c)]
    named_regions |= context.regions_named(reasons)
    return not named_regions or region in named_regions


def _doubt(
    context: AssessmentContext,
    criterion: ConservativeCareCriterion,
    episodes: tuple[CareEpisode, ...],
) -> CriterionAssessment | None:
    """Unknown instead of not met, when records the chart leaves open could change it."""
    today = context.today
    need = criterion.min_duration_months
    recorded_only = {
        id(c.resource): c
        for c in context.courses_of(criterion.medication_classes)
        if c.start_recorded_only and c.start is not None
    }
    if recorded_only and episodes:
        # The most the chart allows: each such course began when the earliest care did.
        earliest = min(e.start.earliest for e in episodes)
        widened = tuple(
            replace(e, start=PartialDate.of(min(earliest, e.start.earliest)))
            if e.kind == MEDICATION_CARE and id(e.resource) in recorded_only
            else e
            for e in episodes
        )
        spans = care_spans(widened, Reading.NOMINAL, today, criterion.max_gap_days)
        if any(_qualifies(span, criterion) for span in spans):
            courses = list(recorded_only.values())
            names = listing(sorted({f"{c.label} ({reference_of(c.resource)})" for c in courses}))
            return CriterionAssessment(
                id=criterion.id,
                title=criterion.title,
                status=CriterionStatus.UNKNOWN,
                explanation=f"{names} is dated only by the day the statement was recorded "
                f"({listing(sorted({str(c.start) for c in courses}))}): the medication began "
                f"on or before then, and taken since the care began it would make ≥ "
                f"{months(need)} of documented care.",
                evidence=tuple(_evidence(e, today) for e in episodes),
                resolve="Record when the medication was started (the statement's effective date).",
            )
    kinds = {kind.id: kind for kind in criterion.care_kinds}
    care = [e for e in episodes if e.kind in kinds]
    if care and all(
        context.match(kinds[e.kind].value_set, e.resource) is Match.WORDS_UNLISTED_CODE
        for e in care
    ):
        # Care recognised only by its words, under codes the policy does not list: its words
        # may name care the codes do not, or the reverse — a shortfall read from them alone is
        # not shown.
        return CriterionAssessment(
            id=criterion.id,
            title=criterion.title,
            status=CriterionStatus.UNKNOWN,
            explanation=f"The care in the chart is recognised only by its words, under codes the "
            f"policy does not list, and falls short of ≥ {months(need)} including "
            f"{_requirement_words(criterion)}.",
            evidence=tuple(_evidence(e, today) for e in episodes),
            resolve="Review the care records and attach any further conservative care with its "
            "dates.",
        )
    return None
