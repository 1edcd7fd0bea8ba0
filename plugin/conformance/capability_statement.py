"""The CapabilityStatement of the app as a FHIR client: what it needs an EHR to support.

Every interaction and search parameter the app uses at an EHR, and no other: it reads the
patient, the signed-in user and the order it was opened for; searches the chart for the
referral and safety checks (`plugin.cds_hooks.chart_queries`); writes the report (a
transaction of conditional creates, or the resources one by one); searches for its own copies
by identifier (`smart_app.outbox.executor`); and amends a signed report by versioned updates,
reading a resource first where the EHR reports no versions.
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
class _Param:
    name: str
    type: str
    documentation: str | None = None


@dataclass(frozen=True, slots=True)
class _Use:
    type: str
    why: str
    read: str | None = None  # why the app reads it by id; None: never
    search: tuple[_Param, ...] = ()
    creates: str | None = None  # the profile id of what it writes
    updates: str | None = None  # why the app updates it; None: never


_PATIENT = _Param("patient", "reference")
_CATEGORY = _Param("category", "token")
_CODE = _Param("code", "token")
_DATE = _Param(
    "date",
    "date",
    "Observations from the first day a result can change the candidacy outcome (ge), those "
    "with no date (:missing=true), and date windows (ge/lt) when a long search is read in "
    "parts.",
)
_IDENTIFIER = _Param(
    "identifier",
    "token",
    "The product's identifier (system|value): finds the app's own copy before a create where "
    "the EHR has no conditional create, and after an answer was lost.",
)
_TAG = _Param(
    "_tag",
    "token",
    "Provenance has no identifier in R4: the product's key rides in meta.tag and finds the "
    "app's own Provenance as the identifier does for the other resources.",
)

#: Why the app reads a resource it updates.
_READ_BEFORE_UPDATE = (
    "A resource the app updates: first, where the EHR reports no versions; and when the "
    "version moved on (412) or the answer to an earlier attempt was lost, to check the "
    "chart's copy against what the app wrote before writing again."
)
_AMENDED = (
    "An amendment updates what changed in place, with If-Match on the version the app "
    "recorded or has just read — never a blind overwrite"
)
_SIGNED_IN_USER = "The signed-in user's record (fhirUser), for their name."

_USES = (
    _Use(
        "Patient",
        "The patient in context: name, sex and birth date for the banner and the report.",
        read="The patient in context; also the signed-in user's record when fhirUser is a Patient.",
    ),
    _Use("Practitioner", "The signed-in clinician.", read=_SIGNED_IN_USER),
    _Use(
        "PractitionerRole",
        "The signed-in clinician, when the EHR names them by their role.",
        read="The signed-in user's record (fhirUser): their name, and their role for the "
        "candidacy attestations they give.",
    ),
    _Use("RelatedPerson", "A signed-in user the EHR names so.", read=_SIGNED_IN_USER),
    _Use("Person", "A signed-in user the EHR names so.", read=_SIGNED_IN_USER),
    _Use(
        "Condition",
        "Back or neck pain and its onset (persistent axial pain), active infection, "
        "coagulation disorder and renal insufficiency (candidacy).",
        search=(_PATIENT,),
    ),
    _Use(
        "Procedure",
        "Conservative care given (physical therapy, manipulation); the discography the app writes.",
        read=_READ_BEFORE_UPDATE,
        search=(_PATIENT, _IDENTIFIER),
        creates=PROCEDURE_PROFILE,
        updates=f"{_AMENDED}. Filed resource by resource, the Procedure is also updated once "
        "its DiagnosticReport exists, to point at it.",
    ),
    _Use(
        "ServiceRequest",
        "The discography referral and physical therapy orders.",
        read="The discography order the app was opened for (a CDS Hooks draft order).",
        search=(_PATIENT,),
    ),
    _Use(
        "Encounter",
        "The procedure encounter the report is filed under.",
        search=(_PATIENT,),
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
        "Pregnancy status, kidney function, clotting results and pain scores (LOINC); the "
        "level results the app writes. The CDS services (and the prefetch they ask for) "
        "sort these searches newest first (_sort=-date) with a page size (_count), and read "
        "on only as far back as a result can change the candidacy outcome.",
        read=_READ_BEFORE_UPDATE,
        search=(_PATIENT, _CATEGORY, _CODE, _DATE, _IDENTIFIER),
        creates=LEVEL_OBSERVATION_PROFILE,
        updates=f"{_AMENDED}: a changed level result becomes amended, a level the amended "
        "report no longer has entered-in-error.",
    ),
    _Use(
        "DiagnosticReport",
        "Spine MRI reports within 12 months; the discography report the app writes.",
        read=_READ_BEFORE_UPDATE,
        search=(_PATIENT, _IDENTIFIER),
        creates=DIAGNOSTIC_REPORT_PROFILE,
        updates=f"{_AMENDED}: the report becomes amended.",
    ),
    _Use(
        "ImagingStudy",
        "Spine MRI studies, where the EHR exposes them apart from reports.",
        search=(_PATIENT,),
    ),
    _Use(
        "DocumentReference",
        "The report as a clinical note, the write path every EHR accepts.",
        read=_READ_BEFORE_UPDATE,
        search=(_IDENTIFIER,),
        creates=DOCUMENT_REFERENCE_PROFILE,
        updates=f"{_AMENDED}: the previous note becomes superseded once the new version's note "
        "replaces it (a note's content is never rewritten).",
    ),
    _Use(
        "Provenance",
        "Who authored each signed version of the report and that the app assembled it.",
        search=(_TAG,),
        creates=PROVENANCE_PROFILE,
    ),
)

_CREATE = (
    "Conditional create (If-None-Exist on the product's identifier; _tag for Provenance) so "
    "that sending a report twice does not file it twice."
)


def _param(param: _Param) -> dict[str, Any]:
    found: dict[str, Any] = {"name": param.name, "type": param.type}
    if param.documentation is not None:
        found["documentation"] = param.documentation
    return found


def _resource(use: _Use) -> dict[str, Any]:
    resource: dict[str, Any] = {"type": use.type}
    if use.creates is not None:
        resource["supportedProfile"] = [profile_url(use.creates)]
    resource["documentation"] = use.why
    interactions: list[dict[str, Any]] = []
    if use.read is not None:
        interactions.append({"code": "read", "documentation": use.read})
    if use.updates is not None:
        interactions.append({"code": "update", "documentation": use.updates})
    if use.search:
        interactions.append({"code": "search-type"})
    if use.creates is not None:
        interactions.append({"code": "create", "documentation": _CREATE})
    resource["interaction"] = interactions
    if use.creates is not None:
        resource["conditionalCreate"] = True
    if use.search:
        resource["searchParam"] = [_param(p) for p in use.search]
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
        "a SMART on FHIR client: it reads the patient, the signed-in user and the order it "
        "was opened for, searches the chart to check candidacy and safety, writes the "
        "discography report as a transaction of conditional creates conforming to the "
        "product's profiles, and amends a signed report by versioned updates.",
        "kind": "requirements",
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "client",
                "documentation": "Authorised with SMART App Launch 2.2 (EHR and standalone "
                "launch). The app reads the EHR's own CapabilityStatement (GET [base]/metadata) "
                "to choose how to write. Searches ask for pages with _count and follow the "
                "next links. Where an EHR takes no transaction, the app writes the same "
                "resources one by one; where it takes only clinical notes, the "
                "DocumentReference alone.",
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
