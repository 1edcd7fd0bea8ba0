"""Assessments made by the real candidacy engine over the sandbox's synthetic charts."""

from __future__ import annotations

from datetime import date
from functools import cache

from plugin.candidacy import Assessment, assess_candidacy, chart_from_resources, order_from_json
from tests.cds_hooks.charts import sandbox_chart, scenario

TODAY = date(2026, 3, 14)
BOTH = ("imaging-inconclusive", "decision-hinges")


@cache
def assessment_for(patient_id: str, attestations: tuple[str, ...] = BOTH) -> Assessment:
    case = scenario(patient_id)
    chart = chart_from_resources(sandbox_chart(patient_id, TODAY))
    order = order_from_json({"region": case.region, "levels": case.levels})
    return assess_candidacy(chart, today=TODAY, order=order, attestations=attestations)


@cache
def assessment_without_labs(patient_id: str) -> Assessment:
    """The patient's assessment with every laboratory result left out of the chart."""
    case = scenario(patient_id)
    chart = chart_from_resources(
        r for r in sandbox_chart(patient_id, TODAY) if "-lab-" not in str(r.get("id"))
    )
    order = order_from_json({"region": case.region, "levels": case.levels})
    return assess_candidacy(chart, today=TODAY, order=order, attestations=BOTH)
