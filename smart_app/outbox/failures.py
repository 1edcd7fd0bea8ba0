"""What the worker does after a failed attempt: try again later (network errors, 429, 5xx, a
lost answer), wait for the user to sign in again (the session's tokens are gone), or stop and
show the reason (the EHR refused what was sent, the granted scopes do not allow it, it does not
support the interaction at all: 501, or a transaction refused at its base).

`message` is for the status page: it may quote the EHR's explanation. `log_summary` is for the
logs: interaction, type and status only (never patient data).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from plugin.errors import DiscographyError, InputProblemError
from smart_app.errors import (
    DiscoveryError,
    SessionExpiredError,
    SessionMissingError,
    TokenEndpointError,
)
from smart_app.fhir_errors import (
    FhirAuthError,
    FhirConflict,
    FhirError,
    FhirHttpError,
    FhirPreconditionFailed,
    FhirRateLimited,
    FhirServerError,
    FhirTransportError,
    FhirUnexpectedResponseError,
    TokenRefreshUnavailableError,
)
from smart_app.outbox.errors import SignInRequiredError, WriteBackError, ehr_said

__all__ = ["Disposition", "FailureHandling", "RetrySchedule", "handling_of"]

_DEAD_GRANT = ("invalid_grant", "invalid_client", "unauthorized_client")


class Disposition(StrEnum):
    RETRY = "retry"
    SIGN_IN = "sign-in"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class FailureHandling:
    disposition: Disposition
    message: str
    log_summary: str
    retry_after: float | None = None
    in_doubt: bool = False


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """Seconds before the next attempt: exponential from `base`, capped at `cap`, with "equal
    jitter"; a server's Retry-After is honoured as given (up to `max_retry_after`)."""

    base: float = 5.0
    cap: float = 900.0
    max_retry_after: float = 3600.0
    jitter: Callable[[], float] = random.random  # not a secret: spreads retries

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(max(0.0, retry_after), self.max_retry_after)
        ceiling = min(self.cap, self.base * 2.0 ** max(0, attempts - 1))
        return ceiling / 2 + self.jitter() * ceiling / 2


def handling_of(error: BaseException) -> FailureHandling:
    """How to handle `error`, raised by an attempt to write an item."""
    kind = type(error).__name__
    if isinstance(error, SignInRequiredError | SessionMissingError | SessionExpiredError):
        return FailureHandling(Disposition.SIGN_IN, _SIGN_IN, f"{kind}: session gone")
    if isinstance(error, TokenEndpointError):
        if error.error_code in _DEAD_GRANT:
            return FailureHandling(Disposition.SIGN_IN, _SIGN_IN, f"{kind}: {error.error_code}")
        return FailureHandling(Disposition.RETRY, error.clinician, f"{kind}: token endpoint")
    if isinstance(error, DiscoveryError):
        return FailureHandling(Disposition.RETRY, error.clinician, f"{kind}: discovery")
    if isinstance(error, TokenRefreshUnavailableError):
        return FailureHandling(Disposition.SIGN_IN, _SIGN_IN, f"{kind}: cannot refresh")
    if isinstance(error, FhirError):
        return _fhir(error)
    if isinstance(error, WriteBackError):
        return FailureHandling(
            Disposition.FAIL, error.message, f"{kind}: write stopped", in_doubt=error.in_doubt
        )
    if isinstance(error, InputProblemError):
        return FailureHandling(Disposition.FAIL, str(error), f"{kind}: unusable report")
    if isinstance(error, DiscographyError):
        return FailureHandling(Disposition.FAIL, str(error), f"{kind}: configuration")
    # Anything else is a fault of ours: keep the item queued (visible) and retry later.
    return FailureHandling(
        Disposition.RETRY,
        "The app met an unexpected problem sending this report; it will try again.",
        f"{kind}: unexpected",
    )


def _fhir(error: FhirError) -> FailureHandling:
    summary = str(error)  # log-safe by contract
    retry_after = error.response.retry_after if error.response is not None else None
    if isinstance(error, FhirAuthError):
        if error.status == 401:
            return FailureHandling(Disposition.SIGN_IN, _SIGN_IN, summary)
        return FailureHandling(Disposition.FAIL, error.user_message, summary)
    if isinstance(error, FhirPreconditionFailed):
        return FailureHandling(Disposition.FAIL, error.user_message, summary)
    if isinstance(error, FhirHttpError) and (unsupported := _unsupported(error)) is not None:
        # Retrying cannot help: the EHR lacks the interaction, whatever the moment.
        return FailureHandling(Disposition.FAIL, unsupported, summary)
    if isinstance(
        error,
        FhirRateLimited
        | FhirServerError
        | FhirTransportError
        | FhirUnexpectedResponseError
        | FhirConflict,
    ):
        return FailureHandling(Disposition.RETRY, error.user_message, summary, retry_after)
    if isinstance(error, FhirHttpError) and error.status >= 500:
        return FailureHandling(Disposition.RETRY, error.user_message, summary, retry_after)
    return FailureHandling(Disposition.FAIL, error.user_message, summary)


def _unsupported(error: FhirHttpError) -> str | None:
    """What to say when the EHR does not support an interaction this write needs: a 501 to
    anything, or a transaction POSTed to the base refused as if the base were not there (404)
    or did not take POST (405); None for every other refusal."""
    request = error.request
    interaction = request.interaction if request is not None else "request"
    status = f"{error.status} {error.response.reason}" if error.response else str(error.status)
    if interaction in ("transaction", "batch") and error.status in (404, 405, 501):
        lead = (
            f"The EHR's FHIR base did not accept a {interaction} ({status})"
            if error.status == 404
            else f"The EHR does not support FHIR {interaction}s ({status})"
        )
        return (
            f'{lead}, the way this report was to be written. {_ASK} to "auto" (the app '
            'then follows what the EHR\'s CapabilityStatement offers) or "per-resource"; '
            f"{_THEN}{ehr_said(error.issues)}"
        )
    if error.status != 501:
        return None
    thing = request.resource_type if request is not None and request.resource_type else "data"
    return (
        f"The EHR does not support the FHIR {interaction} interaction on {thing} ({status}), "
        f'which writing this report needs. {_ASK} to one it supports ("auto" follows what '
        'the EHR\'s CapabilityStatement offers; "document" files the report as a clinical '
        "note only); "
        f"{_THEN}{ehr_said(error.issues)}"
    )


_ASK = "Ask the integration engineer to set this EHR's `write_mode` in the app's settings"
_THEN = (
    "then sign the report again: a report already signed keeps the way of writing it was "
    "planned with."
)
_SIGN_IN = (
    "Your sign-in to the EHR has ended, so the app cannot send this report now. Open the app "
    "from the patient's chart in the EHR: the report is then sent automatically."
)
