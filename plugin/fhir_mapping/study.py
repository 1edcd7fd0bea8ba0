"""A whole study mapped to FHIR R4: the Procedure, one Observation per level, the
DiagnosticReport, the DocumentReference and their Provenance, ready to file as a transaction.

Pure: the renderings come in as a `RenderedReport`, the time of issue as an argument.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.procedure import Procedure
from fhir.resources.R4B.provenance import Provenance

from plugin.errors import InputProblemError, Problem
from plugin.fhir_mapping.bundle import BundleItem, transaction_bundle
from plugin.fhir_mapping.diagnostic_report import diagnostic_report
from plugin.fhir_mapping.document_reference import DOCUMENT_TYPES, document_reference
from plugin.fhir_mapping.identifiers import StudyIdentifiers, study_identifiers
from plugin.fhir_mapping.json_form import fhir_json
from plugin.fhir_mapping.observation import level_observation
from plugin.fhir_mapping.procedure import discography_procedure
from plugin.fhir_mapping.provenance import installed_version, provenance
from plugin.fhir_mapping.readiness import require_reportable
from plugin.fhir_mapping.references import chart_references
from plugin.interpretation.results import LevelResult, StudyInterpretation
from plugin.interpretation.rule_set import RuleSetLibrary
from plugin.interpretation.thresholds import PressureBand
from plugin.report.rendered import RenderedReport
from plugin.study.model import Study

__all__ = ["MappedStudy", "map_study"]


@dataclass(frozen=True, slots=True)
class MappedStudy:
    identifiers: StudyIdentifiers
    procedure: Procedure
    observations: Mapping[str, Observation]  # by level name, in the study's level order
    diagnostic_report: DiagnosticReport
    document_reference: DocumentReference
    provenance: Provenance

    def items(self) -> tuple[BundleItem, ...]:
        """Every resource with its identity, in transaction order: Procedure, level
        Observations, DiagnosticReport, DocumentReference, Provenance."""
        ids = self.identifiers
        return (
            BundleItem(self.procedure, ids.procedure),
            *(BundleItem(obs, ids.levels[level]) for level, obs in self.observations.items()),
            BundleItem(self.diagnostic_report, ids.report),
            BundleItem(self.document_reference, ids.document),
            BundleItem(self.provenance, ids.provenance),
        )

    def bundle(self) -> Bundle:
        return transaction_bundle(self.items())

    def transaction_bundle(self) -> dict[str, Any]:
        """The transaction Bundle as JSON-ready data (FHIR R4 4.0.1 JSON)."""
        return fhir_json(self.bundle())


def map_study(
    study: Study,
    interpretation: StudyInterpretation,
    report: RenderedReport,
    *,
    issued: datetime,
    document_type: str = "18748-4",
    software_version: str | None = None,
    library: RuleSetLibrary | None = None,
) -> MappedStudy:
    """Map a study, its interpretation and its rendered report to FHIR resources.

    `issued` (time-zone aware) is when the report is released: DiagnosticReport.issued,
    DocumentReference.date and Provenance.recorded. `document_type` is the LOINC note type
    of the DocumentReference (18748-4 or 34121-4). `software_version` defaults to the
    installed product's version. `library` holds the rule sets the study was interpreted
    with; without it, a missing pressure-sensitivity class is reported as "unknown" rather than
    "not-applicable" (the mapper cannot tell whether the rule set defines the classes).

    Raises `StudyInvalidError` when the study cannot be filed (no patient, a reference of
    the wrong type, …) and `InputProblemError` for a bad argument or an interpretation of
    another study.
    """
    _check_arguments(issued, document_type)
    require_reportable(study, interpretation)
    ids = study_identifiers(study)
    chart = chart_references(study)
    results = {level.level: _result(interpretation, level.level) for level in study.levels}
    observations = {
        level.level: level_observation(
            level,
            results[level.level],
            identity=ids.levels[level.level],
            procedure=ids.procedure,
            chart=chart,
            performed=study.performed,
            pressure_bands=_pressure_bands(results[level.level], library),
        )
        for level in study.levels
    }
    level_ids = [ids.levels[level.level] for level in study.levels]
    return MappedStudy(
        identifiers=ids,
        procedure=discography_procedure(
            study, identity=ids.procedure, report=ids.report, chart=chart
        ),
        observations=MappingProxyType(observations),
        diagnostic_report=diagnostic_report(
            study,
            interpretation,
            report,
            identity=ids.report,
            results=level_ids,
            chart=chart,
            issued=issued,
        ),
        document_reference=document_reference(
            study,
            interpretation,
            report,
            identity=ids.document,
            diagnostic_report=ids.report,
            chart=chart,
            issued=issued,
            document_type=document_type,
        ),
        provenance=provenance(
            identity=ids.provenance,
            targets=[ids.procedure, *level_ids, ids.report, ids.document],
            chart=chart,
            recorded=issued,
            software_version=software_version or installed_version(),
        ),
    )


def _check_arguments(issued: datetime, document_type: str) -> None:
    problems: list[Problem] = []
    if issued.tzinfo is None or issued.utcoffset() is None:
        problems.append(
            Problem("issued", "timezone-required", "must include a time zone (a FHIR instant)")
        )
    if document_type not in DOCUMENT_TYPES:
        problems.append(
            Problem(
                "document_type",
                "allowed-values",
                f"must be one of {', '.join(DOCUMENT_TYPES)} (got {document_type!r})",
            )
        )
    if problems:
        raise InputProblemError(problems, "report request")


def _result(interpretation: StudyInterpretation, level: str) -> LevelResult:
    result = interpretation.result_for(level)
    if result is None:  # require_reportable has checked every level is interpreted
        raise AssertionError(f"{level} is not interpreted")
    return result


def _pressure_bands(
    result: LevelResult, library: RuleSetLibrary | None
) -> tuple[PressureBand, ...] | None:
    """The pressure-sensitivity bands of the rule set (same id and version) that interpreted
    the level, or None when that rule set is not at hand."""
    rule_set = library.get(result.rule_set.id) if library is not None else None
    if rule_set is None or rule_set.version != result.rule_set.version:
        return None
    return rule_set.thresholds.pressure_sensitivity
