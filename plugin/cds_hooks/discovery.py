"""The CDS services we offer and the discovery document (CDS Hooks 2.0 §Discovery).

Two services assess a draft discography order: on order-select (advisory, while the order is
being written) and on order-sign (just before signing, on the complete order). Both declare
the chart queries as prefetch templates, so a client can send the chart with the call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from plugin.cds_hooks.chart_queries import ChartQuery, prefetch_templates
from plugin.cds_hooks.hook_request import Hook

__all__ = ["SERVICES", "CdsService", "discovery_document", "service_by_id"]

_USAGE = (
    "Send the prefetch keys, or fhirServer with a fhirAuthorization token allowing patient "
    "reads of Patient, Condition, Procedure, ServiceRequest, Encounter, MedicationRequest, "
    "MedicationStatement, AllergyIntolerance, Observation, DiagnosticReport and ImagingStudy. "
    "The physician's attestations are given in the SMART app the card links to."
)


@dataclass(frozen=True, slots=True)
class CdsService:
    id: str
    hook: Hook
    title: str
    description: str


SERVICES: tuple[CdsService, ...] = (
    CdsService(
        id="discography-candidacy-order-select",
        hook=Hook.ORDER_SELECT,
        title="Discography candidacy (order selected)",
        description=(
            "When a provocative discography order is selected, checks the patient's chart "
            "against the discography candidacy policy: persistent axial pain, failed "
            "conservative care, imaging, the treatment decision, infection and stenosis, and "
            "the pre-procedure safety items (labs, drugs to hold, allergies, pregnancy, prior "
            "fusion). Returns one card per selected discography study (its injection and imaging "
            "orders together); none for other orders."
        ),
    ),
    CdsService(
        id="discography-candidacy-order-sign",
        hook=Hook.ORDER_SIGN,
        title="Discography candidacy (order signed)",
        description=(
            "Before a provocative discography order is signed, assesses the patient's "
            "candidacy against the discography candidacy policy and lists unmet or unknown "
            "criteria with their chart evidence and the safety items to settle first, with "
            "suggestions to order missing tests. Returns no card for other orders."
        ),
    ),
)

_BY_ID = {service.id: service for service in SERVICES}


def service_by_id(service_id: str) -> CdsService | None:
    return _BY_ID.get(service_id)


def discovery_document(queries: Sequence[ChartQuery]) -> dict[str, Any]:
    templates = prefetch_templates(tuple(queries))
    return {
        "services": [
            {
                "hook": service.hook.value,
                "id": service.id,
                "title": service.title,
                "description": service.description,
                "prefetch": templates,
                "usageRequirements": _USAGE,
            }
            for service in SERVICES
        ]
    }
