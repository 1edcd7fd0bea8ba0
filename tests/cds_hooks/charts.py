"""Charts for the tests: the sandbox's synthetic patients, dates resolved against a given day,
re-homed onto one patient id when asked."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from plugin.sandbox.synthetic_patients import scenarios, synthetic_resources


def _about(resource: dict[str, Any], patient_id: str) -> bool:
    if resource["resourceType"] == "Patient":
        return bool(resource["id"] == patient_id)
    refs = [(resource.get(e) or {}).get("reference") for e in ("subject", "patient")]
    return f"Patient/{patient_id}" in refs


def sandbox_chart(
    patient_id: str, today: date, *, as_patient: str | None = None
) -> list[dict[str, Any]]:
    """The synthetic patient's resources (Practitioners left out); with `as_patient` every
    reference to the patient, and its id, become `as_patient`."""
    chart = [r for r in synthetic_resources(today) if _about(r, patient_id)]
    if as_patient is None:
        return chart
    text = json.dumps(chart).replace(f'"Patient/{patient_id}"', f'"Patient/{as_patient}"')
    moved: list[dict[str, Any]] = json.loads(text)
    for resource in moved:
        if resource["resourceType"] == "Patient":
            resource["id"] = as_patient
    return moved


def scenario(patient_id: str) -> Any:
    return next(s for s in scenarios() if s.patient_id == patient_id)
