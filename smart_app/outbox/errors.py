"""What can go wrong writing a signed report, besides the EHR's own errors
(`smart_app.fhir_errors`), which the worker classifies.

    SmartError (smart_app.errors)
    ├── OutboxActionError     – a user action on the outbox cannot be done (409 / 404)
    └── SignInRequiredError   – the item's EHR session is gone: wait for the user's next launch
    DiscographyError (plugin.errors)
    └── WriteBackError        – the write cannot go on safely; the item stops as failed
        ├── InDoubtError      – a create may or may not have landed and cannot be checked
        ├── ChangedInChartError – a resource to update was changed in the EHR since
        └── LeaseLostError    – another worker took the item over (nothing to record)
"""

from __future__ import annotations

from plugin.errors import DiscographyError
from smart_app.errors import SmartError

__all__ = [
    "ChangedInChartError",
    "InDoubtError",
    "LeaseLostError",
    "OutboxActionError",
    "SignInRequiredError",
    "WriteBackError",
]


class OutboxActionError(SmartError):
    title = "The report could not be sent again"

    def __init__(self, clinician: str, detail: str, status_code: int = 409) -> None:
        super().__init__(clinician, detail)
        self.status_code = status_code


class SignInRequiredError(SmartError):
    status_code = 401
    title = "Sign-in needed"


class WriteBackError(DiscographyError):
    """`message` is for the status page (it may name resource types, never patient data)."""

    in_doubt = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InDoubtError(WriteBackError):
    in_doubt = True


class ChangedInChartError(WriteBackError):
    pass


class LeaseLostError(WriteBackError):
    pass
