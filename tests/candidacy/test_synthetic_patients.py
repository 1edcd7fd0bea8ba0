"""Every synthetic sandbox patient gives the outcome its scenario documents, decided by the
criteria and safety items the scenario names — on any day, since the charts' dates are
relative."""

from __future__ import annotations

from datetime import date

import pytest

from plugin.candidacy import Order
from plugin.sandbox.synthetic_patients import Scenario
from plugin.study.levels import Region
from tests.candidacy.chart_builder import BOTH, assess
from tests.candidacy.synthetic_charts import expected_items, patient_charts, scenarios

DAYS = (date(2025, 6, 15), date(2028, 2, 29))


@pytest.mark.parametrize("today", DAYS, ids=str)
@pytest.mark.parametrize("scenario", scenarios(), ids=lambda s: s.patient_id)
def test_synthetic_patient_outcome(scenario: Scenario, today: date) -> None:
    chart = patient_charts(today)[scenario.patient_id]
    order = Order(region=Region(scenario.region), levels=tuple(scenario.levels))
    assessment = assess(chart, order=order, attest=BOTH, today=today)
    deciding = {c.id: c.status.value for c in assessment.criteria if c.status.value != "met"}
    deciding |= {s.id: s.severity.value for s in assessment.safety if s.severity.value != "info"}
    assert (assessment.outcome.value, deciding) == (
        scenario.expected_outcome,
        expected_items(scenario),
    ), assessment.summary


def test_there_are_nine_scenarios() -> None:
    assert len(scenarios()) == 9
