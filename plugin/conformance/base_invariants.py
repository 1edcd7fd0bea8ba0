"""The FHIR R4 invariants the validator checks on every resource, profiled or not.

A cheap, well-understood subset of the specification's constraints, copied with their keys and
FHIRPath from the R4 (4.0.1) definitions. Left out: dom-3 (contained resources referenced; needs
a full reference walk), dom-6 (narrative, a best-practice warning the product's resources do not
aim to meet), ele-1 (checked natively as "no empty elements"), bdl-5/7/8 (checked natively with
clearer messages), and the document and message bundle rules (the product sends neither).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from plugin.conformance.canonicals import base_definition_url
from plugin.conformance.issues import Severity

__all__ = ["Invariant", "base_invariants"]


@dataclass(frozen=True, slots=True)
class Invariant:
    key: str
    severity: Severity
    human: str
    expression: str
    source: str  # canonical of the StructureDefinition that defines it

    def as_constraint(self) -> dict[str, Any]:
        """The ElementDefinition.constraint entry."""
        return {
            "key": self.key,
            "severity": self.severity.value,
            "human": self.human,
            "expression": self.expression,
            "source": self.source,
        }


def _r4(type_name: str, key: str, human: str, expression: str) -> Invariant:
    return Invariant(key, Severity.ERROR, human, expression, base_definition_url(type_name))


_DOMAIN_RESOURCE = (
    _r4(
        "DomainResource",
        "dom-2",
        "If the resource is contained in another resource, it SHALL NOT contain nested Resources",
        "contained.contained.empty()",
    ),
    _r4(
        "DomainResource",
        "dom-4",
        "If a resource is contained in another resource, it SHALL NOT have a meta.versionId or a "
        "meta.lastUpdated",
        "contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()",
    ),
    _r4(
        "DomainResource",
        "dom-5",
        "If a resource is contained in another resource, it SHALL NOT have a security label",
        "contained.meta.security.empty()",
    ),
)

_BY_TYPE: dict[str, tuple[Invariant, ...]] = {
    "Observation": (
        _r4(
            "Observation",
            "obs-6",
            "dataAbsentReason SHALL only be present if Observation.value[x] is not present",
            "dataAbsentReason.empty() or value.empty()",
        ),
        _r4(
            "Observation",
            "obs-7",
            "If Observation.code is the same as an Observation.component.code then the value "
            "element associated with the code SHALL NOT be present",
            "value.empty() or component.code.where(coding.intersect(%resource.code.coding)"
            ".exists()).empty()",
        ),
    ),
    "Bundle": (
        _r4(
            "Bundle",
            "bdl-1",
            "total only when a search or history",
            "total.empty() or (type = 'searchset') or (type = 'history')",
        ),
        _r4(
            "Bundle",
            "bdl-2",
            "entry.search only when a search",
            "entry.search.empty() or (type = 'searchset')",
        ),
        _r4(
            "Bundle",
            "bdl-3",
            "entry.request mandatory for batch/transaction/history, otherwise prohibited",
            "entry.all(request.exists() = (%resource.type = 'batch' or "
            "%resource.type = 'transaction' or %resource.type = 'history'))",
        ),
        _r4(
            "Bundle",
            "bdl-4",
            "entry.response mandatory for batch-response/transaction-response/history, "
            "otherwise prohibited",
            "entry.all(response.exists() = (%resource.type = 'batch-response' or "
            "%resource.type = 'transaction-response' or %resource.type = 'history'))",
        ),
    ),
}

# Resource types that are not DomainResources (no contained, no narrative).
_PLAIN_RESOURCES = frozenset({"Bundle", "Binary", "Parameters"})


def base_invariants(resource_type: str) -> tuple[Invariant, ...]:
    """The invariants of a resource type's root element: DomainResource's, then its own."""
    inherited = () if resource_type in _PLAIN_RESOURCES else _DOMAIN_RESOURCE
    return inherited + _BY_TYPE.get(resource_type, ())
