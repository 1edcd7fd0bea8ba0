"""The discography Procedure: what was done, to which discs, why, and with what complications."""

from __future__ import annotations

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.procedure import Procedure, ProcedurePerformer

from plugin.fhir_mapping.coding import (
    disc_concept,
    product_coding,
    product_concept,
    standard_coding,
)
from plugin.fhir_mapping.identifiers import ResourceIdentity
from plugin.fhir_mapping.profiles import PROCEDURE_PROFILE, profile_meta
from plugin.fhir_mapping.references import ChartReferences
from plugin.study.model import Study
from plugin.terminology import INJECTION_CPT_BY_REGION

__all__ = ["PROCEDURE_TEXT", "discography_procedure"]

PROCEDURE_TEXT = "Provocative discography"


def discography_procedure(
    study: Study,
    *,
    identity: ResourceIdentity,
    report: ResourceIdentity,
    chart: ChartReferences,
) -> Procedure:
    indication = study.indication
    return Procedure(
        meta=profile_meta(PROCEDURE_PROFILE),
        identifier=[identity.identifier()],
        status="completed",
        code=_procedure_code(study),
        subject=chart.patient,
        encounter=chart.encounter,
        performedDateTime=study.performed,
        performer=[ProcedurePerformer(actor=chart.performer)]
        if chart.performer is not None
        else None,
        reasonCode=[CodeableConcept(text=indication.text)]
        if indication is not None and indication.text is not None
        else None,
        reasonReference=list(chart.reasons) or None,
        bodySite=[disc_concept(level.level) for level in study.levels],
        report=[report.reference()],
        complication=_complications(study),
    )


def _procedure_code(study: Study) -> CodeableConcept:
    # One CPT injection code per distinct code (cervical and thoracic share 62291), in the
    # order the regions first appear, then the product's own procedure code.
    cpt_codes = dict.fromkeys(INJECTION_CPT_BY_REGION[region] for region in study.regions)
    return CodeableConcept(
        coding=[standard_coding("cpt", code) for code in cpt_codes]
        + [product_coding("discography", "provocative-discography")],
        text=PROCEDURE_TEXT,
    )


def _complications(study: Study) -> list[CodeableConcept] | None:
    # An empty list means none were recorded: nothing is sent. The explicit code "none" is
    # sent as such, so the chart can tell "no complications" from "not asked".
    return [
        product_concept("complication", item.code.value, text=item.text)
        for item in study.complications
    ] or None
