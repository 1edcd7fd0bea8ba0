"""The sandbox's CapabilityStatement, pure: exactly what the server does under its current
behaviour — so an app that plans its writes from `metadata` sees no transactions, no
conditional create, or no DiagnosticReport create when the sandbox is set up that way."""

from __future__ import annotations

from typing import Any

from plugin.sandbox.behaviour import SandboxBehaviour
from plugin.sandbox.config import SandboxConfig
from plugin.sandbox.fhir.search_parameters import RESOURCE_TYPES, parameters_of

__all__ = ["OAUTH_URIS_EXTENSION", "capability_statement"]

OAUTH_URIS_EXTENSION = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
_SECURITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/restful-security-service"


def capability_statement(
    config: SandboxConfig, behaviour: SandboxBehaviour, date: str
) -> dict[str, Any]:
    """`date` is when the server started (a FHIR dateTime)."""
    resources = [_resource(t, behaviour) for t in RESOURCE_TYPES]
    rest: dict[str, Any] = {
        "mode": "server",
        "documentation": "Sandbox EHR for development and integration tests; synthetic data only.",
        "security": {
            "extension": [
                {
                    "url": OAUTH_URIS_EXTENSION,
                    "extension": [
                        {"url": "authorize", "valueUri": config.authorize_url},
                        {"url": "token", "valueUri": config.token_url},
                    ],
                }
            ],
            "service": [{"coding": [{"system": _SECURITY_SYSTEM, "code": "SMART-on-FHIR"}]}],
            "description": "SMART App Launch 2.2; discovery at "
            f"{config.fhir_base}/.well-known/smart-configuration",
        },
        "resource": resources,
    }
    if behaviour.transactions:
        rest["interaction"] = [{"code": "transaction"}]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "publisher": "discography plugin sandbox EHR",
        "kind": "instance",
        "software": {"name": "discogram sandbox EHR"},
        "implementation": {
            "description": "Sandbox EHR (synthetic patients)",
            "url": config.fhir_base,
        },
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [rest],
    }


def _resource(resource_type: str, behaviour: SandboxBehaviour) -> dict[str, Any]:
    creatable = resource_type not in behaviour.refuse_create
    interactions = ["read", "vread", "history-instance", "search-type", "update"]
    if creatable:
        interactions.insert(4, "create")
    if not behaviour.versions:
        interactions = [i for i in interactions if i not in ("vread", "history-instance")]
    entry: dict[str, Any] = {
        "type": resource_type,
        "interaction": [{"code": code} for code in interactions],
        "versioning": "versioned-update" if behaviour.versions else "no-version",
        "readHistory": behaviour.versions,
        "updateCreate": creatable,
        "conditionalCreate": creatable and behaviour.conditional_create,
        "conditionalUpdate": False,
        "conditionalDelete": "not-supported",
        "searchParam": [
            {"name": p.name, "type": p.type.value, "documentation": p.documentation}
            for p in parameters_of(resource_type).values()
        ],
    }
    return entry
