"""How far back a lab known only by its words can change the outcome: the longest window the
policy judges such a lab in, with a margin; no bound when the policy judges one at any age."""

from __future__ import annotations

from datetime import date

from plugin.candidacy import default_policy
from plugin.candidacy.lookback import (
    WORDS_ONLY_MARGIN_DAYS,
    words_only_lookback_days,
    words_only_since,
)


def test_the_longest_policy_window_plus_the_margin() -> None:
    policy = default_policy()
    windows = [r.max_age_days for r in policy.lab_requirements]
    windows += [policy.pregnancy.pregnant_valid_days, policy.pregnancy.not_pregnant_valid_days]
    assert words_only_lookback_days(policy) == max(windows) + WORDS_ONLY_MARGIN_DAYS
    # The default policy's longest window is a "pregnant" statement's 280 days.
    assert words_only_since(policy, date(2026, 11, 23)) == date(2026, 2, 14)


def test_a_longer_pregnancy_window_moves_the_bound() -> None:
    policy = default_policy()
    longer = policy.model_copy(
        update={"pregnancy": policy.pregnancy.model_copy(update={"pregnant_valid_days": 400})}
    )
    assert words_only_lookback_days(longer) == 400 + WORDS_ONLY_MARGIN_DAYS


def test_no_bound_when_a_clotting_lab_has_no_window() -> None:
    policy = default_policy()
    # eGFR signals clotting risk; without the kidney-function requirement its latest result
    # counts however old it is.
    unwindowed = policy.model_copy(
        update={
            "lab_requirements": tuple(r for r in policy.lab_requirements if "egfr" not in r.any_of)
        }
    )
    assert words_only_lookback_days(unwindowed) is None
    assert words_only_since(unwindowed, date(2026, 11, 23)) is None
