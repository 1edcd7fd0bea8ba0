"""Error bodies: an OperationOutcome for every non-2xx answer (what the CDS Hooks 3.0 ballot
asks for, harmless to 2.0 clients). Invalid requests list one issue per problem with the field
at fault; a refused JWT gets one generic issue and nothing that says which check failed."""

from __future__ import annotations

from typing import Any

from plugin.cds_hooks.errors import (
    CdsHooksError,
    CdsRequestInvalidError,
    ChartUnavailableError,
    ClientUnauthorizedError,
    ReplayCheckUnavailableError,
    UnknownServiceError,
)

__all__ = ["error_outcome", "operation_outcome"]


def operation_outcome(code: str, text: str, expression: str | None = None) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": text}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def error_outcome(error: CdsHooksError) -> dict[str, Any]:
    if isinstance(error, CdsRequestInvalidError):
        issues: list[dict[str, Any]] = []
        for problem in error.problems:
            issue: dict[str, Any] = {
                "severity": "error",
                "code": "invalid" if problem.rule in ("json", "type") else "structure",
                "details": {"text": problem.rule},
                "diagnostics": str(problem),
            }
            if problem.field:
                issue["expression"] = [problem.field]
            issues.append(issue)
        return {"resourceType": "OperationOutcome", "issue": issues}
    if isinstance(error, UnknownServiceError):
        return operation_outcome("not-found", "There is no CDS service with this id.")
    if isinstance(error, ChartUnavailableError):
        keys = ", ".join(error.keys)
        return operation_outcome(
            "incomplete",
            f"The chart data needed could not be obtained ({keys}): {error.why}.",
        )
    if isinstance(error, ClientUnauthorizedError):
        return operation_outcome("login", "Authentication failed.")
    if isinstance(error, ReplayCheckUnavailableError):
        # Refused, not accepted unchecked; the client may try again with a new token.
        return operation_outcome(
            "transient", "The CDS service cannot check the token now; try again later."
        )
    return operation_outcome("exception", "The CDS service could not answer.")
