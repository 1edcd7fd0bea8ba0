"""Codings, CodeableConcepts and Quantities built from `plugin.terminology`.

Standard codes (LOINC, SNOMED CT, CPT, UCUM) are looked up in `mappings/standard-codes.json`
and sent without ``Coding.display`` (we are not sure of the official displays): their
descriptive name goes in ``CodeableConcept.text``. The product's own codes carry the display
the product defines for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.quantity import Quantity

from plugin.terminology import PRODUCT_CODE_SYSTEMS, disc_snomed_code, standard_code, system_url

__all__ = [
    "DOCUMENT_CATEGORY_CLINICAL_NOTE",
    "OBSERVATION_CATEGORY_PROCEDURE",
    "PROVENANCE_ACTIVITY_CREATE",
    "PROVENANCE_AGENT_ASSEMBLER",
    "PROVENANCE_AGENT_AUTHOR",
    "REPORT_CATEGORY_RADIOLOGY",
    "DataAbsentReason",
    "Hl7Code",
    "data_absent",
    "disc_concept",
    "hl7_concept",
    "product_coding",
    "product_concept",
    "standard_coding",
    "standard_concept",
    "ucum_quantity",
]


@dataclass(frozen=True, slots=True)
class Hl7Code:
    """A code of an HL7 terminology system that FHIR R4 itself fixes for this use; `system_key`
    names the system in `mappings/standard-codes.json`."""

    system_key: str
    code: str

    def coding(self) -> Coding:
        return Coding(system=system_url(self.system_key), code=self.code)


# The codes FHIR R4 and US Core prescribe for these elements (shared/clinical.md §5,
# shared/standards.md §5.5).
OBSERVATION_CATEGORY_PROCEDURE = Hl7Code("observation-category", "procedure")
REPORT_CATEGORY_RADIOLOGY = Hl7Code("v2-0074", "RAD")  # not OUS, which is obstetric ultrasound
DOCUMENT_CATEGORY_CLINICAL_NOTE = Hl7Code("us-core-documentreference-category", "clinical-note")
PROVENANCE_ACTIVITY_CREATE = Hl7Code("v3-DataOperation", "CREATE")
PROVENANCE_AGENT_AUTHOR = Hl7Code("provenance-participant-type", "author")
PROVENANCE_AGENT_ASSEMBLER = Hl7Code("provenance-participant-type", "assembler")


class DataAbsentReason(StrEnum):
    """Codes of http://terminology.hl7.org/CodeSystem/data-absent-reason the mapping uses."""

    UNKNOWN = "unknown"  # could have been recorded but was not
    NOT_PERFORMED = "not-performed"  # the injection of the level was not completed
    NOT_APPLICABLE = "not-applicable"  # cannot exist, e.g. onset pressure when no pain


def hl7_concept(code: Hl7Code, *, text: str | None = None) -> CodeableConcept:
    return CodeableConcept(coding=[code.coding()], text=text)


def standard_coding(system_key: str, code: str) -> Coding:
    """A standard code from `mappings/standard-codes.json`; KeyError when it is not listed."""
    entry = standard_code(system_key, code)
    return Coding(system=entry.system, code=entry.code)


def standard_concept(system_key: str, code: str) -> CodeableConcept:
    entry = standard_code(system_key, code)
    return CodeableConcept(coding=[Coding(system=entry.system, code=entry.code)], text=entry.name)


def product_coding(system_id: str, code: str) -> Coding:
    """A code of one of the product's CodeSystems, with its display; KeyError when unknown."""
    system = PRODUCT_CODE_SYSTEMS[system_id]
    return Coding(system=system.url, code=code, display=system.display(code))


def product_concept(system_id: str, code: str, *, text: str | None = None) -> CodeableConcept:
    return CodeableConcept(coding=[product_coding(system_id, code)], text=text)


def disc_concept(level: str) -> CodeableConcept:
    """The intervertebral disc as a body site: SNOMED CT (DICOM CID 7604) and its level."""
    entry = disc_snomed_code(level)
    return CodeableConcept(
        coding=[Coding(system=entry.system, code=entry.code)],
        text=f"{level} intervertebral disc",
    )


def ucum_quantity(value: float, code: str, *, unit: str) -> Quantity:
    """A UCUM quantity; `code` must be one of the UCUM codes listed in the mappings."""
    entry = standard_code("ucum", code)
    return Quantity(value=value, unit=unit, system=entry.system, code=entry.code)


def data_absent(reason: DataAbsentReason) -> CodeableConcept:
    return CodeableConcept(
        coding=[Coding(system=system_url("data-absent-reason"), code=reason.value)]
    )
