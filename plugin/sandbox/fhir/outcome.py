"""Errors of the sandbox FHIR server and their OperationOutcome.

Handlers raise `FhirError`; one exception handler turns it into the HTTP status and an
OperationOutcome whose issues name the element (`expression`) and the rule broken.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "FhirError",
    "Issue",
    "IssueType",
    "operation_outcome",
]

#: OperationOutcome.issue.code (FHIR R4 value set issue-type) values the sandbox uses.
IssueType = Literal[
    "invalid",
    "structure",
    "required",
    "value",
    "code-invalid",
    "security",
    "login",
    "forbidden",
    "expired",
    "not-supported",
    "not-found",
    "conflict",
    "duplicate",
    "multiple-matches",
    "processing",
    "business-rule",
    "exception",
    "transient",
    "too-costly",
    "informational",
]


@dataclass(frozen=True, slots=True)
class Issue:
    code: IssueType
    diagnostics: str
    expression: tuple[str, ...] = ()
    severity: Literal["fatal", "error", "warning", "information"] = "error"

    def as_fhir(self) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "diagnostics": self.diagnostics,
        }
        if self.expression:
            issue["expression"] = list(self.expression)
        return issue


class FhirError(Exception):
    """A request the server refuses: `status` is the HTTP status, `issues` say why."""

    def __init__(
        self, status: int, issues: list[Issue], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__("; ".join(issue.diagnostics for issue in issues))
        self.status = status
        self.issues = issues
        self.headers = dict(headers or {})

    @classmethod
    def single(
        cls,
        status: int,
        code: IssueType,
        diagnostics: str,
        *expression: str,
        headers: dict[str, str] | None = None,
    ) -> FhirError:
        return cls(status, [Issue(code, diagnostics, tuple(expression))], dict(headers or {}))

    def outcome(self) -> dict[str, Any]:
        return operation_outcome(self.issues)


def operation_outcome(issues: list[Issue]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [issue.as_fhir() for issue in issues]}
