"""The report as a clinical note (DocumentReference): the path every EHR accepts for writing a
procedure report back to the chart (shared/standards.md §5)."""

from __future__ import annotations

from datetime import datetime

from fhir.resources.R4B.documentreference import (
    DocumentReference,
    DocumentReferenceContent,
    DocumentReferenceContext,
)
from fhir.resources.R4B.period import Period

from plugin.fhir_mapping.attachments import pdf_attachment, text_attachment
from plugin.fhir_mapping.coding import (
    DOCUMENT_CATEGORY_CLINICAL_NOTE,
    hl7_concept,
    standard_concept,
)
from plugin.fhir_mapping.diagnostic_report import REPORT_TITLE
from plugin.fhir_mapping.identifiers import ResourceIdentity
from plugin.fhir_mapping.profiles import DOCUMENT_REFERENCE_PROFILE, profile_meta
from plugin.fhir_mapping.references import ChartReferences
from plugin.interpretation.results import StudyInterpretation
from plugin.report.rendered import RenderedReport
from plugin.study.model import Study
from plugin.terminology import PRODUCT_CODE_SYSTEMS

__all__ = ["DOCUMENT_TYPES", "document_description", "document_reference"]

#: LOINC note types a site may file the report as: diagnostic imaging study (default) or
#: interventional procedure note.
DOCUMENT_TYPES = ("18748-4", "34121-4")


def document_reference(
    study: Study,
    interpretation: StudyInterpretation,
    report: RenderedReport,
    *,
    identity: ResourceIdentity,
    diagnostic_report: ResourceIdentity,
    chart: ChartReferences,
    issued: datetime,
    document_type: str,
) -> DocumentReference:
    if document_type not in DOCUMENT_TYPES:
        raise ValueError(f"document type must be one of {DOCUMENT_TYPES}, not {document_type!r}")
    return DocumentReference(
        meta=profile_meta(DOCUMENT_REFERENCE_PROFILE),
        identifier=[identity.identifier()],
        status="current",
        docStatus="final",
        type=standard_concept("loinc", document_type),
        category=[hl7_concept(DOCUMENT_CATEGORY_CLINICAL_NOTE)],
        subject=chart.patient,
        date=issued,
        author=[chart.performer] if chart.performer is not None else None,
        description=document_description(study, interpretation),
        content=[
            DocumentReferenceContent(attachment=pdf_attachment(report, title=REPORT_TITLE)),
            DocumentReferenceContent(attachment=text_attachment(report, title=REPORT_TITLE)),
        ],
        context=DocumentReferenceContext(
            encounter=[chart.encounter] if chart.encounter is not None else None,
            period=Period(start=study.performed) if study.performed is not None else None,
            related=[diagnostic_report.reference()],
        ),
    )


def document_description(study: Study, interpretation: StudyInterpretation) -> str:
    """One line for the chart's document list: the discs injected and the conclusion."""
    levels = ", ".join(level.level for level in study.levels)
    conclusion = PRODUCT_CODE_SYSTEMS["study-conclusion"].display(
        interpretation.conclusion.code.value
    )
    return f"{REPORT_TITLE}, {levels}: {conclusion}"
