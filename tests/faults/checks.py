"""What every fault test checks at the end: each signed report in the chart exactly once."""

from __future__ import annotations

from plugin.writeback import StepAction
from smart_app.outbox import ItemState
from tests.faults.harness import WriteBackRig


async def assert_in_chart_once(rig: WriteBackRig, item_id: str) -> None:
    """The item is written; each resource it created is in the chart once, under the id
    its ledger recorded."""
    item = await rig.item(item_id)
    assert item.state is ItemState.WRITTEN, (item.state, item.last_error)
    plan = await rig.plan(item_id)
    entries = await rig.store.ledger_entries(item_id)
    copies = await rig.chart_copies(plan)
    for step in plan.steps:
        if step.action is not StepAction.CREATE:
            continue
        assert len(copies[step.key]) == 1, (step.key, copies[step.key])
        assert entries[step.key].server_id in (copies[step.key][0], None), step.key
    assert all(count == 1 for count in (await rig.our_resources()).values())
