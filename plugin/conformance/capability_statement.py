"""The CapabilityStatement of the app as a FHIR client: what it needs an EHR to support.

Reads the patient, searches the chart for the referral and safety checks, and writes the
report (a transaction of conditional creates, or the resources one by one where the EHR takes
no transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from plugin.conformance.canonicals import (
    CONFORMANCE_DATE,
    CONFORMANCE_VERSION,
    PUBLISHER,
    capability_statement_url,
)
from plugin.fhir_mapping.profiles import (
    DIAGNOSTIC_REPORT_PROFILE,
    DOCUMENT_REFERENCE_PROFILE,
    LEVEL_OBSERVATION_PROFILE,
    PROCEDURE_PROFILE,
    PROVENANCE_PROFILE,
    profile_url,
)

__all__ = ["CAPABILITY_STATEMENT_ID", "capability_statement"]

CAPABILITY_STATEMENT_ID = "discography-plugin-client"


@dataclass(frozen=True, slots=True)
class _Use:
    type: str
    why: str
    read: bool = False
    search: tuple[tuple[str, str], ...] = ()  # (parameter name, type)
    creates: str | None = None  # the profile id of what it writes


_PATIENT = ("patient", "reference")
_CATEGORY = ("category", "token")
_CODE = ("code", "token")
_DATE = ("date", "date")

_USES = (
    _Use("Patient", "The patient in context: name, sex and birth date for the report.", read=True),
    _Use(
        "Condition",
        "Back or neck pain and its onset (persistent axial pain), active infection, "
        "coagulation disorder and renal insufficiency (candidacy).",
        search=(_PATIENT, _CATEGORY, _CODE),
    ),
    _Use(
        "Procedure",
        "Conservative care given (physical therapy, manipulation); the discography the app writes.",
        search=(_PATIENT, _CODE, _DATE),
        creates=PROCEDURE_PROFILE,
    ),
    _Use(
        "ServiceRequest",
        "The discography referral and physical therapy orders.",
        search=(_PATIENT, _CODE),
    ),
    _Use(
        "Encounter",
        "The procedure encounter the report is filed under.",
        search=(_PATIENT, _DATE),
    ),
    _Use(
        "MedicationRequest",
        "Analgesics and NSAIDs tried (conservative care); anticoagulants and antiplatelets "
        "to hold; recent antibiotics.",
        search=(_PATIENT,),
    ),
    _Use(
        "MedicationStatement",
        "Medication the patient reports taking, where the EHR records it apart from orders.",
        search=(_PATIENT,),
    ),
    _Use(
        "AllergyIntolerance",
        "Contrast, local anaesthetic and antibiotic allergies.",
        search=(_PATIENT,),
    ),
    _Use(
        "Observation",
        "Pregnancy status, kidney function and clotting results (LOINC); the level results "
        "the app writes.",
        search=(_PATIENT, _CATEGORY, _CODE, _DATE),
        creates=LEVEL_OBSERVATION_PROFILE,
    ),
    _Use(
        "DiagnosticReport",
        "Spine MRI reports within 12 months; the discography report the app writes.",
        search=(_PATIENT, _CATEGORY, _CODE, _DATE),
        creates=DIAGNOSTIC_REPORT_PROFILE,
    ),
    _Use(
        "ImagingStudy",
        "Spine MRI studies, where the EHR exposes them apart from reports.",
        search=(_PATIENT,),
    ),
    _Use(
        "DocumentReference",
        "The report as a clinical note, the write path every EHR accepts.",
        creates=DOCUMENT_REFERENCE_PROFILE,
    ),
    _Use(
        "Provenance",
        "Who authored the report and that the app assembled it.",
        creates=PROVENANCE_PROFILE,
    ),
)


def _resource(use: _Use) -> dict[str, Any]:
    resource: dict[str, Any] = {"type": use.type}
    if use.creates is not None:
        resource["supportedProfile"] = [profile_url(use.creates)]
    resource["documentation"] = use.why
    interactions = []
    if use.read:
        interactions.append({"code": "read"})
    if use.search:
        interactions.append({"code": "search-type"})
    if use.creates is not None:
        interactions.append(
            {
                "code": "create",
                "documentation": "Conditional create (If-None-Exist on the product's "
                "identifier; _tag for Provenance) so that sending a report twice does not "
                "file it twice.",
            }
        )
    resource["interaction"] = interactions
    if use.creates is not None:
        resource["conditionalCreate"] = True
    if use.search:
        resource["searchParam"] = [{"name": name, "type": kind} for name, kind in use.search]
    return resource


def capability_statement() -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "id": CAPABILITY_STATEMENT_ID,
        "url": capability_statement_url(CAPABILITY_STATEMENT_ID),
        "version": CONFORMANCE_VERSION,
        "name": "DiscographyPluginClient",
        "title": "Discography plugin: what it needs from an EHR",
        "status": "active",
        "experimental": False,
        "date": CONFORMANCE_DATE,
        "publisher": PUBLISHER,
        "description": "The FHIR R4 interactions the discography plugin performs at an EHR as "
        "a SMART on FHIR client: it reads the patient and searches the chart to check "
        "candidacy and safety, and writes the discography report as a transaction of "
        "conditional creates conforming to the product's profiles.",
        "kind": "requirements",
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "client",
                "documentation": "Authorised with SMART App Launch 2.2 (EHR and standalone "
                "launch). Where an EHR takes no transaction or no DiagnosticReport, the app "
                "writes the DocumentReference alone.",
                "resource": [_resource(use) for use in _USES],
                "interaction": [
                    {
                        "code": "transaction",
                        "documentation": "The report: Procedure, level Observations, "
                        "DiagnosticReport, DocumentReference and Provenance in one "
                        "transaction Bundle.",
                    }
                ],
            }
        ],
    }
