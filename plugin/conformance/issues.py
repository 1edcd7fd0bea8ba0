"""What the validator reports: one `ValidationIssue` per broken rule."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from plugin.errors import Problem

__all__ = ["Severity", "ValidationIssue"]


class Severity(StrEnum):
    """FHIR's issue severities (OperationOutcome.issue.severity, constraint.severity)."""

    ERROR = "error"
    WARNING = "warning"
    INFORMATION = "information"


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One broken rule. `path` is FHIRPath-like and starts at the resource checked
    (``Observation.component[3].valueQuantity.code``); `rule` is the invariant key or a short
    rule id (``obs-6``, ``min-cardinality``, ``required-binding``)."""

    severity: Severity
    path: str
    message: str
    rule: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.path}: {self.message} [{self.rule}]"

    def as_problem(self) -> Problem:
        """The issue in the product's error vocabulary, to raise as an InputProblemError."""
        return Problem(self.path, self.rule, self.message)
