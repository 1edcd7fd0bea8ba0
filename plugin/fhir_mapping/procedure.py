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
from plugin.study.model import Study, TechnicalResult
from plugin.terminology import INJECTION_CPT_BY_REGION

__all__ = [
    "PROCEDURE_COMPLETED",
    "PROCEDURE_NOT_DONE",
    "PROCEDURE_STOPPED",
    "PROCEDURE_TEXT",
    "discography_procedure",
    "procedure_status",
]

PROCEDURE_TEXT = "Provocative discography"

#: Procedure.status (FHIR R4 event-status) as the product writes it.
PROCEDURE_COMPLETED = "completed"
PROCEDURE_STOPPED = "stopped"
PROCEDURE_NOT_DONE = "not-done"


def procedure_status(study: Study) -> str:
    """``completed`` when at least one disc was injected to completion; ``stopped`` when none
    was but an injection began (an aborted level: "stopped before completion"); ``not-done``
    when no disc was entered at all (every needle failed to reach the nucleus), so nothing was
    injected. R4 event-status: stopped is "terminated ... after having at least some of the
    actions taken", not-done "prior to any activity beyond preparation"."""
    results = {level.technical_result for level in study.levels}
    if TechnicalResult.COMPLETED in results:
        return PROCEDURE_COMPLETED
    if TechnicalResult.ABORTED in results:
        return PROCEDURE_STOPPED
    return PROCEDURE_NOT_DONE


def discography_procedure(
    study: Study,
    *,
    identity: ResourceIdentity,
    report: ResourceIdentity,
    chart: ChartReferences,
) -> Procedure:
    indication = study.indication
    status = procedure_status(study)
    return Procedure(
        meta=profile_meta(PROCEDURE_PROFILE),
        identifier=[identity.identifier()],
        status=status,
        statusReason=None if status == PROCEDURE_COMPLETED else _status_reason(study),
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


def _status_reason(study: Study) -> CodeableConcept:
    """Why no disc was injected to completion, level by level (text: no standard code says it)."""
    words = {TechnicalResult.NOT_ENTERED: "not entered", TechnicalResult.ABORTED: "aborted"}
    levels = "; ".join(
        f"{level.level} {words[level.technical_result]}"
        + (f" ({level.abort_reason})" if level.abort_reason else "")
        for level in study.levels
    )
    return CodeableConcept(text=f"No disc injection was completed: {levels}.")
