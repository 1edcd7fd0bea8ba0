"""The sandbox's synthetic patients as one chart each, and what each scenario expects from
the candidacy engine in this package's ids."""

from __future__ import annotations

from datetime import date
from typing import Any

from plugin.sandbox.synthetic_patients import Scenario, scenarios, synthetic_resources

__all__ = ["DECIDING_IDS", "DECIDING_STATUS", "expected_items", "patient_charts", "scenarios"]

#: The scenario file's names for deciding items → the engine's criterion or safety-item ids.
DECIDING_IDS = {
    "failed-conservative-care": "failed-conservative-care",
    "imaging": "imaging-inconclusive",
    "anticoagulant": "drug-hold-apixaban",
    "contrast-allergy": "allergy-contrast",
    "pregnancy": "pregnancy",
    "kidney-function": "lab-egfr-out-of-range",
    "prior-fusion-at-level": "prior-fusion-L4-L5",
}
#: The scenario file's statuses → the engine's criterion status or safety severity.
DECIDING_STATUS = {
    ("pregnancy", "not-met"): "contraindication",
    ("anticoagulant", "needs-action"): "action",
    ("contrast-allergy", "needs-action"): "action",
    ("kidney-function", "needs-action"): "action",
    ("prior-fusion-at-level", "needs-action"): "action",
}


def patient_charts(today: date) -> dict[str, list[dict[str, Any]]]:
    """Each synthetic patient's resources (the Patient and everything about them)."""
    charts: dict[str, list[dict[str, Any]]] = {}
    for resource in synthetic_resources(today):
        if resource["resourceType"] == "Patient":
            owner: str | None = resource["id"]
        else:
            target = resource.get("subject") or resource.get("patient") or {}
            reference = target.get("reference", "") if isinstance(target, dict) else ""
            owner = reference.split("/", 1)[1] if reference.startswith("Patient/") else None
        if owner is not None:
            charts.setdefault(owner, []).append(resource)
    return charts


def expected_items(scenario: Scenario) -> dict[str, str]:
    """{engine id: status or severity} of the scenario's deciding items."""
    return {
        DECIDING_IDS[d.criterion]: DECIDING_STATUS.get((d.criterion, d.status), d.status)
        for d in scenario.deciding
    }
