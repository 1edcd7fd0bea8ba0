"""How far back a laboratory Observation recognised only by its words can change an
assessment's outcome — so a reader may leave older ones out of the chart.

A lab-category Observation without a policy code (none, or only codes the policy does not
list) is read for its words only: as a lab result (eGFR, INR, … — judged only within the lab
requirement's window), a pregnancy test (current for the policy's pregnancy validity periods)
or a pain score (shown as evidence, never deciding).
One older than every one of those windows cannot change the outcome, a criterion's status, or
a safety item's id or severity. It can still be the record an explanation cites as the latest
("out of date: the latest result … is 400 days old" instead of "missing"; the last pregnancy
record; the latest pain scores shown), so a reader that leaves such records out says so.

The same bound holds for an Observation coded with the policy's LOINC codes: a lab result, a
pregnancy status and a pain score are judged within the same windows. The SMART app still reads
coded Observations whatever their age (they are few, and an explanation may cite an old one);
the CDS services, whose prefetch cannot carry a date, count every Observation from this horizon
on, and those with no effective date (`plugin.cds_hooks.latest_first`).
"""

from __future__ import annotations

from datetime import date, timedelta

from plugin.candidacy.policy import Policy

__all__ = ["WORDS_ONLY_MARGIN_DAYS", "words_only_lookback_days", "words_only_since"]

#: Days added to the longest window: the engine counts a charted date as written, a FHIR
#: server compares instants in UTC, so a record near the edge may differ by a day.
WORDS_ONLY_MARGIN_DAYS = 2


def words_only_lookback_days(policy: Policy) -> int | None:
    """The longest window in which a words-only lab Observation counts, plus the margin;
    None when one counts at any age (a lab that signals clotting risk but belongs to no lab
    requirement is judged by its latest result, however old)."""
    required = {lab for requirement in policy.lab_requirements for lab in requirement.any_of}
    if not set(policy.clotting_risk.labs_needing_action) <= required:
        return None
    windows = [requirement.max_age_days for requirement in policy.lab_requirements]
    windows += [policy.pregnancy.pregnant_valid_days, policy.pregnancy.not_pregnant_valid_days]
    return max(windows) + WORDS_ONLY_MARGIN_DAYS


def words_only_since(policy: Policy, today: date) -> date | None:
    """The first day a words-only lab Observation can still change the outcome (None: any)."""
    days = words_only_lookback_days(policy)
    return None if days is None else today - timedelta(days=days)
