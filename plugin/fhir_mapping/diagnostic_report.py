"""The discography DiagnosticReport: the study's conclusion, its level results and the full
report as HTML and PDF."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.diagnosticreport import DiagnosticReport

from plugin.fhir_mapping.attachments import html_attachment, pdf_attachment
from plugin.fhir_mapping.coding import (
    REPORT_CATEGORY_RADIOLOGY,
    hl7_concept,
    product_concept,
    standard_concept,
)
from plugin.fhir_mapping.identifiers import ResourceIdentity
from plugin.fhir_mapping.profiles import DIAGNOSTIC_REPORT_PROFILE, profile_meta
from plugin.fhir_mapping.references import ChartReferences
from plugin.interpretation.results import StudyInterpretation
from plugin.report.rendered import RenderedReport
from plugin.study.model import Study
from plugin.terminology import STUDY_LOINC_BY_REGION

__all__ = ["REPORT_TITLE", "diagnostic_report", "report_code", "report_conclusion"]

REPORT_TITLE = "Provocative discography report"


def diagnostic_report(
    study: Study,
    interpretation: StudyInterpretation,
    report: RenderedReport,
    *,
    identity: ResourceIdentity,
    results: Sequence[ResourceIdentity],
    chart: ChartReferences,
    issued: datetime,
) -> DiagnosticReport:
    performers = [chart.performer] if chart.performer is not None else None
    return DiagnosticReport(
        meta=profile_meta(DIAGNOSTIC_REPORT_PROFILE),
        identifier=[identity.identifier()],
        status="final",
        category=[hl7_concept(REPORT_CATEGORY_RADIOLOGY)],
        code=report_code(study),
        subject=chart.patient,
        encounter=chart.encounter,
        effectiveDateTime=study.performed,
        issued=issued,
        performer=performers,
        resultsInterpreter=performers,
        result=[result.reference() for result in results],
        conclusion=report_conclusion(interpretation),
        conclusionCode=[product_concept("study-conclusion", interpretation.conclusion.code.value)],
        presentedForm=[
            html_attachment(report, title=REPORT_TITLE),
            pdf_attachment(report, title=REPORT_TITLE),
        ],
    )


def report_code(study: Study) -> CodeableConcept:
    """The LOINC discography study code of the study's one region, or the unspecified-region
    code when the study spans several."""
    regions = study.regions
    key = regions[0] if len(regions) == 1 else None
    return standard_concept("loinc", STUDY_LOINC_BY_REGION[key])


def report_conclusion(interpretation: StudyInterpretation) -> str:
    """The study conclusion followed by the rule sets (id and version) it was reached with."""
    rule_sets = "; ".join(
        f"{rule_set.title} ({rule_set.id} version {rule_set.version})"
        for rule_set in interpretation.rule_sets
    )
    conclusion = interpretation.conclusion.text
    return f"{conclusion}\nRule sets: {rule_sets}." if rule_sets else conclusion
