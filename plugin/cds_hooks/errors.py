"""What can go wrong answering a CDS Hooks call, as one exception tree; `router` maps each to
its HTTP status and an OperationOutcome body in one place.

    CdsHooksError
    ├── CdsRequestInvalidError   – 400: not JSON, or not a valid call of this hook (`problems`)
    ├── UnknownServiceError      – 404: no service with this id
    ├── ChartUnavailableError    – 412: data neither prefetched nor obtainable from fhirServer
    ├── ClientUnauthorizedError  – 401: the CDS client's JWT failed a check (`reason` is logged,
    │                              never sent)
    └── ReplayCheckUnavailableError – 503: the store of seen JWT ids could not be asked, so the
                                   token is not accepted (`why` is logged, never sent)
"""

from __future__ import annotations

from plugin.errors import DiscographyError, InputProblemError, Problem

__all__ = [
    "CdsHooksError",
    "CdsRequestInvalidError",
    "ChartUnavailableError",
    "ClientUnauthorizedError",
    "ReplayCheckUnavailableError",
    "UnknownServiceError",
]


class CdsHooksError(DiscographyError):
    """Base of the errors a CDS Hooks endpoint answers with a non-2xx status."""

    status: int = 500


class CdsRequestInvalidError(CdsHooksError, InputProblemError):
    """The body is not JSON or breaks a rule of CDS Hooks 2.0 or the hook; every problem is
    listed with the field at fault (``context.draftOrders.entry[0].resource``)."""

    status = 400

    def __init__(self, problems: list[Problem], what: str = "CDS Hooks request") -> None:
        InputProblemError.__init__(self, problems, what)


class UnknownServiceError(CdsHooksError):
    status = 404

    def __init__(self, service_id: str) -> None:
        self.service_id = service_id
        super().__init__(f"no CDS service with id {service_id!r}")


class ChartUnavailableError(CdsHooksError):
    """CDS Hooks 2.0 §Prefetch Template: the data is neither prefetched nor obtainable from
    the FHIR server, so the service answers 412 Precondition Failed. `keys` are the prefetch
    keys that could not be had; `why` says why, without patient data."""

    status = 412

    def __init__(self, keys: tuple[str, ...], why: str) -> None:
        self.keys = keys
        self.why = why
        super().__init__(f"chart data unavailable ({', '.join(keys)}): {why}")


class ClientUnauthorizedError(CdsHooksError):
    """The CDS client's JWT was missing or failed a check. The client only ever sees a generic
    401; `reason` is for our log (it names the check, never the token)."""

    status = 401

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class ReplayCheckUnavailableError(CdsHooksError):
    """Whether the token's `jti` was used before could not be checked (the database failed).
    The token is refused — a replay must never pass for want of a check — but the client did
    nothing wrong, so it gets 503 rather than 401. `why` names the failure for our log; it never
    holds the token or its claims."""

    status = 503

    def __init__(self, why: str) -> None:
        self.why = why
        super().__init__(f"the JWT id could not be checked: {why}")
