"""The blinded injection order: a permutation, fixed once injections have results."""

import random

from hypothesis import given
from hypothesis import strategies as st

from plugin.study.levels import DISC_LEVELS
from smart_app.workflow.blinded_order import draw_order, extend_order, has_results, order_locked

discs = st.lists(st.sampled_from(DISC_LEVELS), min_size=1, max_size=8, unique=True)


@given(discs, st.integers(min_value=0, max_value=2**32))
def test_the_order_is_a_permutation_of_one_to_n(levels: list[str], seed: int) -> None:
    order = draw_order(levels, random.Random(seed))
    assert set(order) == set(levels)
    assert sorted(order.values()) == list(range(1, len(levels) + 1))


def test_every_order_of_three_discs_can_be_drawn() -> None:
    seen = {
        tuple(sorted(o, key=o.__getitem__))
        for o in (draw_order(["A", "B", "C"]) for _ in range(400))
    }
    assert len(seen) == 6  # 1 in 6 each: missing one in 400 draws is about 1e-31


def test_added_discs_follow_every_number_already_given() -> None:
    order = extend_order({"L4-L5": 1, "L5-S1": 3}, ["L2-L3", "L3-L4"], random.Random(1), after=4)
    assert order["L4-L5"] == 1 and order["L5-S1"] == 3
    assert sorted([order["L2-L3"], order["L3-L4"]]) == [5, 6]


def test_results_are_anything_beyond_the_default_completed() -> None:
    assert not has_results({"level": "L4-L5", "role": "control", "order": 2})
    assert not has_results({"level": "L4-L5", "technical_result": "completed", "comment": ""})
    assert has_results({"level": "L4-L5", "technical_result": "aborted"})
    assert has_results({"level": "L4-L5", "opening_pressure_psi": "1O"})  # typed, even invalid
    assert order_locked([{"level": "A"}, {"level": "B", "pain_intensity": 0}])
    assert not order_locked([{"level": "A"}, {"level": "B"}])
