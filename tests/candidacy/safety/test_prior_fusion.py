"""Prior spinal fusion against the ordered levels."""

from __future__ import annotations

from plugin.candidacy import Order, SafetyKind
from plugin.study.levels import Region
from tests.candidacy.chart_builder import ago, assess, condition, good_lumbar_chart, procedure


def fusion_items(*resources: dict[str, object], order: Order) -> list[tuple[str, str]]:
    assessment = assess([*good_lumbar_chart(), *resources], order=order)  # type: ignore[list-item]
    return [
        (i.id, i.severity.value) for i in assessment.safety if i.kind is SafetyKind.PRIOR_FUSION
    ]


TLIF = procedure("fus", text="TLIF L3-L5", performed=ago(1000))


def test_a_fused_range_covers_each_disc_in_it() -> None:
    assessment = assess(
        [*good_lumbar_chart(), TLIF], order=Order(region=Region.LUMBAR, levels=("L4-L5",))
    )
    item = next(i for i in assessment.safety if i.kind is SafetyKind.PRIOR_FUSION)
    assert (item.id, item.severity.value) == ("prior-fusion-L3-L4-L4-L5", "action")
    assert item.action == (
        "Remove L4-L5 from the order; to evaluate a failed fusion, test the adjacent levels "
        "(L2-L3 and L5-S1) and attest that the treatment decision depends on the result."
    )


def test_other_levels_and_other_regions_are_information() -> None:
    assert fusion_items(TLIF, order=Order(region=Region.LUMBAR, levels=("L5-S1",))) == [
        ("prior-fusion-L3-L4-L4-L5", "info")
    ]
    acdf = procedure("acdf", text="ACDF", performed=ago(1000))
    assert fusion_items(acdf, order=Order(region=Region.LUMBAR, levels=("L4-L5",))) == [
        ("prior-fusion-acdf", "info")
    ]


def test_an_order_without_levels_must_be_checked() -> None:
    assert fusion_items(TLIF, order=Order(region=Region.LUMBAR)) == [
        ("prior-fusion-L3-L4-L4-L5", "action")
    ]


def test_a_history_condition_without_levels_joins_the_known_fusion() -> None:
    history = condition("Low back pain after lumbar fusion", "hist", onset=ago(700))
    assessment = assess(
        [*good_lumbar_chart(), TLIF, history], order=Order(region=Region.LUMBAR, levels=("L4-L5",))
    )
    items = [i for i in assessment.safety if i.kind is SafetyKind.PRIOR_FUSION]
    assert len(items) == 1
    assert [e.reference for e in items[0].evidence] == ["Procedure/fus", "Condition/hist"]


def test_a_fusion_not_done_is_ignored() -> None:
    planned = procedure("fus", text="Lumbar fusion L4-L5", performed=ago(10), status="preparation")
    assert fusion_items(planned, order=Order(region=Region.LUMBAR, levels=("L4-L5",))) == []


def test_body_sites_of_the_wrong_type_read_as_absent() -> None:
    fusion = procedure("f1", text="Lumbar fusion", performed=ago(900))
    fusion["bodySite"] = 5
    assert fusion_items(fusion, order=Order(region=Region.LUMBAR, levels=("L4-L5",))) == [
        ("prior-fusion-f1", "action")
    ]
