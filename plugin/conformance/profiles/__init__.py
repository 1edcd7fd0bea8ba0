"""The product's five profiles, one module each, with the differential written in Python."""

from __future__ import annotations

from plugin.conformance.profiles.diagnostic_report import diagnostic_report_profile
from plugin.conformance.profiles.document_reference import document_reference_profile
from plugin.conformance.profiles.level_observation import level_observation_profile
from plugin.conformance.profiles.procedure import procedure_profile
from plugin.conformance.profiles.provenance import provenance_profile
from plugin.conformance.structure_definition import Profile

__all__ = ["all_profiles"]


def all_profiles() -> tuple[Profile, ...]:
    """The profiles in write order: Procedure, level Observation, DiagnosticReport,
    DocumentReference, Provenance."""
    return (
        procedure_profile(),
        level_observation_profile(),
        diagnostic_report_profile(),
        document_reference_profile(),
        provenance_profile(),
    )
