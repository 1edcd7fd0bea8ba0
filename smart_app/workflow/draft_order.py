"""The discography order the app was opened for, when the EHR says which: a CDS Hooks card's
`appContext` naming the draft ServiceRequest, or a SMART `fhirContext` entry referencing one.
Either may be absent (EHRs drop them), in which case the chart's own open order, if any, is
used — and without one the candidacy is assessed without a region or levels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from plugin.candidacy.order import Order, is_discography_request, order_from_service_request
from plugin.cds_hooks.app_context import read_app_context
from plugin.errors import InputProblemError
from smart_app.fhir_client import FhirClient
from smart_app.fhir_errors import FhirError
from smart_app.session import SmartSession

__all__ = ["OrderFound", "draft_order_reference", "read_draft_order"]

_SERVICE_REQUEST = re.compile(r"(?:^|/)ServiceRequest/(?P<id>[A-Za-z0-9\-.]{1,64})$")


@dataclass(frozen=True, slots=True)
class OrderFound:
    order: Order | None
    source: str  # in words, for the page: "the order the app was opened for"
    problem: str | None = None


def _service_request_id(reference: str | None) -> str | None:
    if not reference:
        return None
    match = _SERVICE_REQUEST.search(reference.strip())
    return match["id"] if match else None


def draft_order_reference(session: SmartSession) -> str | None:
    """The id of the ServiceRequest the launch names: appContext first, then fhirContext."""
    if session.app_context:
        try:
            context = read_app_context(session.app_context)
        except InputProblemError:
            context = None  # an appContext that is not ours: ignore it
        found = _service_request_id(context.draft_order if context else None)
        if found:
            return found
    for item in session.fhir_context:
        reference = item.get("reference")
        if isinstance(reference, str):
            found = _service_request_id(reference)
            if found:
                return found
    return None


async def read_draft_order(client: FhirClient, service_request_id: str) -> OrderFound:
    """The order a ServiceRequest describes; a draft order may not exist on the server yet."""
    source = "the order the app was opened for"
    try:
        resource = await client.read("ServiceRequest", service_request_id)
    except FhirError as exc:
        return OrderFound(None, source, f"it could not be read: {exc.user_message}")
    if not is_discography_request(resource):
        return OrderFound(None, source, "it is not a discography order")
    try:
        return OrderFound(order_from_service_request(resource), source)
    except InputProblemError as exc:
        return OrderFound(None, source, "; ".join(str(p) for p in exc.problems))
