"""FHIR R4 mapping of a discography study: pure functions from the study, its interpretation
and its rendered report to typed `fhir.resources.R4B` models and a transaction Bundle (R4 4.0.1
on the wire)."""

from plugin.fhir_mapping.study import MappedStudy, map_study

__all__ = ["MappedStudy", "map_study"]
