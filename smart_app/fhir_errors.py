"""What can go wrong talking to an EHR's FHIR server, as one exception tree.

    FhirError                    – base; `.request` / `.response` summaries, `.user_message`
    ├── FhirHttpError            – the server answered with an error status (`.status`, `.issues`)
    │   ├── FhirNotFound         – 404 / 410: the resource does not exist (or no longer)
    │   ├── FhirAuthError        – 401 after one token refresh (or with a token that cannot be
    │   │                          refreshed), or 403: the granted scopes do not allow it
    │   ├── FhirConflict         – 409: a concurrent change (version conflict)
    │   │   └── FhirPreconditionFailed – 412: `If-Match` version is stale, or a conditional
    │   │                          create matched more than one resource
    │   ├── FhirInvalidResource  – 400 / 422: the server rejected what we sent
    │   ├── FhirRateLimited      – 429 still returned after the retries the deadline allowed
    │   └── FhirServerError      – 5xx still returned after the retries the deadline allowed
    ├── FhirTransportError       – no answer: network failure after retries
    │   └── FhirTimeoutError     – no answer in time (per-request timeout or overall deadline)
    ├── FhirUnexpectedResponseError – a success status whose body is not the FHIR JSON expected
    ├── FhirPagingError          – a search `next` link we refuse to follow (other origin, loop)
    └── TokenRefreshUnavailableError – raised by a TokenSource that cannot refresh; the client
                                   reports the 401 as FhirAuthError

`str(error)` is safe to log: interaction, resource type, status — never ids, URLs, tokens or
the server's diagnostics (which may quote patient data). `user_message` adds the server's own
explanation for the person on the page, who is entitled to see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

__all__ = [
    "FhirAuthError",
    "FhirConflict",
    "FhirError",
    "FhirHttpError",
    "FhirInvalidResource",
    "FhirNotFound",
    "FhirPagingError",
    "FhirPreconditionFailed",
    "FhirRateLimited",
    "FhirServerError",
    "FhirTimeoutError",
    "FhirTransportError",
    "FhirUnexpectedResponseError",
    "OutcomeIssue",
    "RequestSummary",
    "ResponseSummary",
    "TokenRefreshUnavailableError",
    "http_error",
    "outcome_issues",
]


@dataclass(frozen=True, slots=True)
class RequestSummary:
    """What was asked, without anything identifying: no URL, id, query or body."""

    interaction: str  # FHIR interaction: read, search, create, update, transaction, …
    method: str
    resource_type: str | None = None

    def __str__(self) -> str:
        target = f" {self.resource_type}" if self.resource_type else ""
        return f"{self.interaction}{target} ({self.method})"


@dataclass(frozen=True, slots=True)
class ResponseSummary:
    status: int
    content_type: str | None = None
    attempts: int = 1  # how many times the request was sent (retries and the 401 retry included)
    retry_after: float | None = None  # seconds the server asked us to wait, if it said

    @property
    def reason(self) -> str:
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return "Unknown status"


@dataclass(frozen=True, slots=True)
class OutcomeIssue:
    """One OperationOutcome.issue, as the server sent it."""

    severity: str  # fatal | error | warning | information (as sent; may be missing: "")
    code: str  # the IssueType code (invalid, required, conflict, …)
    diagnostics: str | None = None
    details: str | None = None  # details.text, or the first coding's display
    expression: tuple[str, ...] = ()  # FHIRPath of the element at fault (or legacy `location`)

    @property
    def text(self) -> str:
        """The sentence a person reads for this issue."""
        words = self.details or self.diagnostics or self.code or "no detail given"
        return f"{words} (at {', '.join(self.expression)})" if self.expression else words

    @property
    def is_error(self) -> bool:
        return self.severity.lower() in ("fatal", "error")


def outcome_issues(body: Any) -> tuple[OutcomeIssue, ...]:
    """The issues of an OperationOutcome body (parsed JSON); () for anything else.

    Tolerant: servers send issues without severity, `location` instead of `expression`, or
    details with codings only.

    >>> outcome_issues({"resourceType": "OperationOutcome", "issue": [
    ...     {"severity": "error", "code": "required", "expression": ["Observation.status"]}]})
    (OutcomeIssue(severity='error', code='required', diagnostics=None, details=None, \
expression=('Observation.status',)),)
    """
    if not isinstance(body, dict) or body.get("resourceType") != "OperationOutcome":
        return ()
    raw_issues = body.get("issue")
    if isinstance(raw_issues, dict):
        raw_issues = [raw_issues]
    if not isinstance(raw_issues, list):
        return ()
    return tuple(_issue(raw) for raw in raw_issues if isinstance(raw, dict))


def _issue(raw: dict[str, Any]) -> OutcomeIssue:
    expression = raw.get("expression") or raw.get("location") or ()
    if isinstance(expression, str):
        expression = (expression,)
    return OutcomeIssue(
        severity=_text(raw.get("severity")) or "",
        code=_text(raw.get("code")) or "",
        diagnostics=_text(raw.get("diagnostics")),
        details=_details_text(raw.get("details")),
        expression=tuple(e for e in expression if isinstance(e, str)),
    )


def _details_text(details: Any) -> str | None:
    if not isinstance(details, dict):
        return None
    if text := _text(details.get("text")):
        return text
    codings = details.get("coding")
    if isinstance(codings, list):
        for coding in codings:
            if isinstance(coding, dict) and (display := _text(coding.get("display"))):
                return display
    return None


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


class FhirError(Exception):
    """Base of every error talking to an EHR's FHIR server."""

    default_message = "The EHR could not be reached or did not answer as expected."

    def __init__(
        self,
        summary: str,
        *,
        request: RequestSummary | None = None,
        response: ResponseSummary | None = None,
        user_message: str | None = None,
    ) -> None:
        super().__init__(summary)
        self.request = request
        self.response = response
        self.user_message = user_message or self.default_message


class FhirHttpError(FhirError):
    """The server answered with an error status; `issues` holds its OperationOutcome."""

    default_message = "The EHR refused the request."

    def __init__(
        self,
        request: RequestSummary,
        response: ResponseSummary,
        issues: tuple[OutcomeIssue, ...] = (),
    ) -> None:
        self.status = response.status
        self.issues = issues
        counted = f", {len(issues)} issue(s)" if issues else ""
        summary = f"EHR answered {request}: {response.status} {response.reason}{counted}"
        super().__init__(summary, request=request, response=response)
        self.user_message = self._user_message(request)

    @property
    def outcome(self) -> tuple[OutcomeIssue, ...]:
        return self.issues

    def _lead(self, request: RequestSummary) -> str:
        return self.default_message

    def _user_message(self, request: RequestSummary) -> str:
        lead = self._lead(request)
        # Errors first: the server's warnings rarely explain the refusal.
        explained = [i.text for i in self.issues if i.is_error] or [i.text for i in self.issues]
        return f"{lead} The EHR said: {'; '.join(explained)}" if explained else lead


def _thing(request: RequestSummary) -> str:
    return request.resource_type or "resource"


class FhirNotFound(FhirHttpError):  # noqa: N818 - the name the other modules use
    """404 Not Found or 410 Gone."""

    def _lead(self, request: RequestSummary) -> str:
        if self.status == HTTPStatus.GONE:
            return f"The {_thing(request)} was deleted in the EHR."
        return f"The {_thing(request)} was not found in the EHR."


class FhirAuthError(FhirHttpError):
    """401 after the one token refresh (or with a token that cannot be refreshed), or 403."""

    def _lead(self, request: RequestSummary) -> str:
        if self.status == HTTPStatus.FORBIDDEN:
            return (
                f"The EHR did not allow this app to {request.interaction} {_thing(request)}: "
                "the access granted at launch does not cover it."
            )
        return "The EHR no longer accepts this session; launch the app again from the EHR."


class FhirConflict(FhirHttpError):  # noqa: N818 - the name the other modules use
    """409 Conflict: someone changed the resource at the same time."""

    def _lead(self, request: RequestSummary) -> str:
        return f"The {_thing(request)} was changed in the EHR at the same time; reload and retry."


class FhirPreconditionFailed(FhirConflict):
    """412: the `If-Match` version is no longer current, or a conditional create matched
    several resources."""

    def _lead(self, request: RequestSummary) -> str:
        if request.interaction == "create":
            return (
                f"The EHR found more than one existing {_thing(request)} matching this one, "
                "so it did not create another."
            )
        return f"The {_thing(request)} changed in the EHR since it was read; reload and retry."


class FhirInvalidResource(FhirHttpError):  # noqa: N818 - the name the other modules use
    """400 Bad Request or 422 Unprocessable Entity: the server rejected what we sent."""

    def _lead(self, request: RequestSummary) -> str:
        if request.interaction == "search":
            return f"The EHR rejected the search for {_thing(request)}."
        return f"The EHR rejected the {_thing(request)} as invalid."


class FhirRateLimited(FhirHttpError):  # noqa: N818 - the name the other modules use
    """429 Too Many Requests, still, after the retries the deadline allowed."""

    def _lead(self, request: RequestSummary) -> str:
        wait = self.response.retry_after if self.response else None
        later = f"in {wait:.0f} seconds" if wait is not None else "in a moment"
        return f"The EHR is too busy to answer now (rate limit); try again {later}."


class FhirServerError(FhirHttpError):
    """5xx, still, after the retries the deadline allowed (or not retried: a plain POST)."""

    def _lead(self, request: RequestSummary) -> str:
        return f"The EHR had a problem of its own ({self.status}); try again later."


class FhirTransportError(FhirError):
    """The EHR could not be reached, or the connection broke, after retries."""

    default_message = "The EHR could not be reached; check the connection and try again."


class FhirTimeoutError(FhirTransportError):
    """No answer within the per-request timeout or the overall deadline, after retries."""

    default_message = "The EHR did not answer in time; try again."


class FhirUnexpectedResponseError(FhirError):
    """A success status with a body that is not the FHIR JSON the interaction returns."""

    default_message = "The EHR answered with something this app cannot read."


class FhirPagingError(FhirError):
    """A search's `next` link we will not follow: it points to another origin than the FHIR
    base (SMART: never send the token to another server) or back to a page already read."""

    default_message = (
        "The EHR's search results could not be read completely; ask the EHR team to check "
        "its paging links."
    )


class TokenRefreshUnavailableError(FhirError):
    """Raised by a TokenSource asked to refresh a token it cannot refresh (a CDS Hooks
    fhirAuthorization token, a session without refresh token). The client reports the 401 as
    FhirAuthError."""

    default_message = "The EHR access token expired and cannot be renewed."


_BY_STATUS: dict[int, type[FhirHttpError]] = {
    400: FhirInvalidResource,
    401: FhirAuthError,
    403: FhirAuthError,
    404: FhirNotFound,
    409: FhirConflict,
    410: FhirNotFound,
    412: FhirPreconditionFailed,
    422: FhirInvalidResource,
    429: FhirRateLimited,
}


def http_error(
    request: RequestSummary, response: ResponseSummary, issues: tuple[OutcomeIssue, ...] = ()
) -> FhirHttpError:
    """The typed error for an error status."""
    cls = _BY_STATUS.get(response.status)
    if cls is None:
        cls = FhirServerError if response.status >= 500 else FhirHttpError
    return cls(request, response, issues)
