"""The ValueSets the profiles bind to.

One per product CodeSystem (all its codes), the component codes of a level Observation, and
the few standard-code sets the profiles require: disc SNOMED CT codes, discography LOINC
study and document codes (from `mappings/standard-codes.json`), the HL7 interpretation and
data-absent-reason codes the product writes, and the statuses it writes
(`plugin.conformance.statuses`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from plugin.conformance.canonicals import (
    CONFORMANCE_DATE,
    CONFORMANCE_VERSION,
    PUBLISHER,
    value_set_url,
)
from plugin.conformance.code_systems import computable_name
from plugin.conformance.level_components import LEVEL_COMPONENTS
from plugin.conformance.statuses import STATUS_VALUE_SETS
from plugin.fhir_mapping.coding import DataAbsentReason
from plugin.fhir_mapping.document_reference import DOCUMENT_TYPES
from plugin.interpretation.results import FhirInterpretation
from plugin.study.levels import DISC_LEVELS
from plugin.terminology import (
    PRODUCT_CODE_SYSTEMS,
    STUDY_LOINC_BY_REGION,
    disc_snomed_code,
    standard_code,
    system_url,
)

__all__ = [
    "COMPONENT_VALUE_SET",
    "DATA_ABSENT_REASONS",
    "DATA_ABSENT_REASON_SYSTEM",
    "DATA_ABSENT_REASON_VALUE_SET",
    "DISC_VALUE_SET",
    "DOCUMENT_TYPE_CODES",
    "DOCUMENT_TYPE_VALUE_SET",
    "INTERPRETATION_SYSTEM",
    "INTERPRETATION_VALUE_SET",
    "STUDY_TYPE_VALUE_SET",
    "value_set_resources",
]

COMPONENT_VALUE_SET = "discography-component"
INTERPRETATION_VALUE_SET = "discography-interpretation"
DATA_ABSENT_REASON_VALUE_SET = "discography-data-absent-reason"
DISC_VALUE_SET = "intervertebral-disc"
STUDY_TYPE_VALUE_SET = "discography-study-type"
DOCUMENT_TYPE_VALUE_SET = "discography-document-type"

INTERPRETATION_SYSTEM = system_url("v3-ObservationInterpretation")
DATA_ABSENT_REASON_SYSTEM = system_url("data-absent-reason")
#: Why a component has no value: the level was not completed; the value cannot exist (no pain
#: provoked, so no onset pressure); or it was not recorded.
DATA_ABSENT_REASONS = tuple(reason.value for reason in DataAbsentReason)
#: The report's document types (DocumentReference.type); the EHR registration picks one.
DOCUMENT_TYPE_CODES = DOCUMENT_TYPES


def _value_set(
    value_set_id: str, title: str, description: str, include: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "resourceType": "ValueSet",
        "id": value_set_id,
        "url": value_set_url(value_set_id),
        "version": CONFORMANCE_VERSION,
        "name": computable_name(value_set_id),
        "title": title,
        "status": "active",
        "experimental": False,
        "date": CONFORMANCE_DATE,
        "publisher": PUBLISHER,
        "description": description,
        "immutable": False,
        "compose": {"include": include},
    }


def _listed(system: str, codes: Iterable[str]) -> dict[str, Any]:
    # No display: the product is not sure of the official displays of standard codes.
    return {"system": system, "concept": [{"code": code} for code in codes]}


def _loinc(codes: Iterable[str]) -> dict[str, Any]:
    # standard_code raises when a code is missing from mappings/standard-codes.json.
    return _listed(system_url("loinc"), [standard_code("loinc", code).code for code in codes])


def _component_codes() -> list[dict[str, Any]]:
    by_system: dict[str, list[str]] = {}
    for component in LEVEL_COMPONENTS:
        by_system.setdefault(component.system, []).append(component.code)
    return [_listed(system, codes) for system, codes in by_system.items()]


def value_set_resources() -> list[dict[str, Any]]:
    whole_systems = [
        _value_set(
            system.id,
            f"{system.title} (all codes)",
            f"Every code of the product CodeSystem {system.id}: {system.description}",
            [{"system": system.url}],
        )
        for system in PRODUCT_CODE_SYSTEMS.values()
    ]
    return [
        *whole_systems,
        _value_set(
            COMPONENT_VALUE_SET,
            "Discography level result components",
            "The codes of the components of a discography level Observation: the product's "
            "own codes and LOINC 72514-3 for pain intensity.",
            _component_codes(),
        ),
        _value_set(
            INTERPRETATION_VALUE_SET,
            "Discography level interpretation",
            "Positive, negative or indeterminate, as the level category implies "
            "(shared/clinical.md §2a).",
            [_listed(INTERPRETATION_SYSTEM, [code.value for code in FhirInterpretation])],
        ),
        _value_set(
            DATA_ABSENT_REASON_VALUE_SET,
            "Why a discography component has no value",
            "not-performed: the level was not completed; not-applicable: the value cannot "
            "exist (no pain provoked, or the rule set does not define it); unknown: not "
            "recorded.",
            [_listed(DATA_ABSENT_REASON_SYSTEM, DATA_ABSENT_REASONS)],
        ),
        _value_set(
            DISC_VALUE_SET,
            "Intervertebral discs",
            "SNOMED CT codes of the intervertebral discs C2/C3 to L5/S1 (DICOM CID 7604).",
            [_listed(system_url("snomed"), [disc_snomed_code(lv).code for lv in DISC_LEVELS])],
        ),
        _value_set(
            STUDY_TYPE_VALUE_SET,
            "Discography study types",
            "LOINC codes of a discography study by spinal region, and the unspecified region "
            "for a study of several regions.",
            [_loinc(dict.fromkeys(STUDY_LOINC_BY_REGION.values()))],
        ),
        _value_set(
            DOCUMENT_TYPE_VALUE_SET,
            "Discography report document types",
            "LOINC document types the report is filed under: diagnostic imaging study or "
            "interventional procedure note.",
            [_loinc(DOCUMENT_TYPE_CODES)],
        ),
        *(
            _value_set(
                statuses.id,
                statuses.title,
                statuses.description,
                [_listed(statuses.system, [written.code for written in statuses.codes])],
            )
            for statuses in STATUS_VALUE_SETS
        ),
    ]
