"""The CDS Hooks request the sandbox EHR sends when a physician orders provocative
discography (CDS Hooks 2.0 §Calling a CDS Service; order-select and order-sign in the hook
library): the draft ServiceRequest, the context, and the prefetch queries its templates ask."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from plugin.candidacy.order import DISCOGRAPHY_CODES as RECOGNISED_CODES
from plugin.cds_hooks.chart_queries import ChartQuery, FhirRead, rendered_query
from plugin.cds_hooks.hook_request import FhirAuthorization, Hook
from plugin.study.levels import DISC_LEVELS, Region, region_of
from plugin.terminology import disc_snomed_code, system_url

__all__ = [
    "DISCOGRAPHY_CODES",
    "DiscographyOrder",
    "FhirAuthorization",
    "Hook",
    "draft_service_request",
    "hook_context",
    "hook_request",
    "levels_from_form",
    "prefetch_query",
]


@dataclass(frozen=True, slots=True)
class DiscographyCode:
    cpt: str
    display: str

    @property
    def regions(self) -> frozenset[Region]:
        """The regions the candidacy services read the code as covering."""
        return RECOGNISED_CODES[(system_url("cpt"), self.cpt)]


#: The CPT codes the order form offers (the ones the candidacy services recognise), with the
#: words the form shows.
DISCOGRAPHY_CODES: tuple[DiscographyCode, ...] = (
    DiscographyCode("62290", "Injection procedure for discography, lumbar"),
    DiscographyCode("62291", "Injection procedure for discography, cervical or thoracic"),
    DiscographyCode("72295", "Discography, lumbar, radiological supervision and interpretation"),
    DiscographyCode(
        "72285", "Discography, cervical or thoracic, radiological supervision and interpretation"
    ),
)
_BY_CPT = {code.cpt: code for code in DISCOGRAPHY_CODES}


@dataclass(frozen=True, slots=True)
class DiscographyOrder:
    """What the physician entered on the order form."""

    patient_id: str
    user_id: str  # Practitioner id
    cpt: str
    levels: tuple[str, ...]
    hook: Hook
    send_prefetch: bool

    def problems(self) -> list[str]:
        """Why the form cannot become an order (empty when it can)."""
        found: list[str] = []
        code = _BY_CPT.get(self.cpt)
        if code is None:
            found.append("Choose one of the listed CPT codes.")
        if not self.levels:
            found.append("Choose at least one disc level.")
        unknown = [level for level in self.levels if level not in DISC_LEVELS]
        if unknown:
            found.append("Choose disc levels from the list.")
        elif code is not None and any(region_of(lv) not in code.regions for lv in self.levels):
            # The service would refuse the order as malformed; say so in the physician's words.
            found.append(f"CPT {code.cpt} does not cover every chosen level ({code.display}).")
        return found


def draft_service_request(order: DiscographyOrder, order_id: str) -> dict[str, Any]:
    """The draft order as the EHR holds it before signing: status draft, intent order."""
    code = _BY_CPT[order.cpt]
    return {
        "resourceType": "ServiceRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "code": {
            "coding": [{"system": system_url("cpt"), "code": code.cpt, "display": code.display}],
            "text": "Provocative discography",
        },
        "subject": {"reference": f"Patient/{order.patient_id}"},
        "requester": {"reference": f"Practitioner/{order.user_id}"},
        "bodySite": [_disc(level) for level in order.levels],
    }


def _disc(level: str) -> dict[str, Any]:
    snomed = disc_snomed_code(level)
    return {
        "coding": [{"system": snomed.system, "code": snomed.code, "display": snomed.name}],
        "text": f"{level} intervertebral disc",
    }


def hook_context(
    order: DiscographyOrder, draft: Mapping[str, Any], encounter_id: str | None
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "userId": f"Practitioner/{order.user_id}",
        "patientId": order.patient_id,
        "draftOrders": {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": dict(draft)}],
        },
    }
    if encounter_id is not None:
        context["encounterId"] = encounter_id
    if order.hook is Hook.ORDER_SELECT:
        # The order the physician just picked; order-sign has no selections.
        context["selections"] = [f"ServiceRequest/{draft['id']}"]
    return context


def prefetch_query(template: str, context: Mapping[str, Any]) -> str | None:
    """The template with its ``{{context.x}}`` tokens replaced (as the service renders them,
    `chart_queries.rendered_query`), as a relative URL; None when a token names a context
    field that is not a string (CDS Hooks 2.0 §Prefetch tokens: the client then leaves the
    key out and the service fetches it itself)."""
    tokens = {name: value for name, value in context.items() if isinstance(value, str)}
    try:
        rendered = rendered_query(ChartQuery("", template), tokens)
    except KeyError:
        return None
    if isinstance(rendered, FhirRead):
        # Quoted: an id can then never add a path segment or parameter of its own.
        return f"{rendered.resource_type}/{quote(rendered.resource_id, safe='/')}"
    return f"{rendered.resource_type}?{urlencode(rendered.params)}"


def hook_request(
    order: DiscographyOrder,
    context: Mapping[str, Any],
    *,
    prefetch: Mapping[str, Any] | None,
    fhir_server: str | None,
    authorization: FhirAuthorization | None,
) -> dict[str, Any]:
    """The request body: a new hookInstance per call, as the spec asks."""
    body: dict[str, Any] = {
        "hook": order.hook.value,
        "hookInstance": str(uuid.uuid4()),
        "context": dict(context),
    }
    if fhir_server is not None:
        body["fhirServer"] = fhir_server
    if authorization is not None:
        # CDS Hooks 2.0 §Passing the Access Token: `patient` only when the token is bound.
        body["fhirAuthorization"] = {
            k: v for k, v in dataclasses.asdict(authorization).items() if v is not None
        }
    if prefetch is not None:
        body["prefetch"] = dict(prefetch)
    return body


def levels_from_form(values: Sequence[str]) -> tuple[str, ...]:
    """The chosen levels, cranial to caudal, each once."""
    chosen = set(values)
    return tuple(level for level in DISC_LEVELS if level in chosen) + tuple(
        sorted(v for v in chosen if v not in DISC_LEVELS)
    )
