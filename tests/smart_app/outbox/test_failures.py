"""What each failure does to an item: retry later, wait for sign-in, or fail with a reason."""

from __future__ import annotations

import pytest

from plugin.errors import InputProblemError, Problem
from smart_app.errors import SessionExpiredError, TokenEndpointError
from smart_app.fhir_errors import (
    FhirTimeoutError,
    OutcomeIssue,
    RequestSummary,
    ResponseSummary,
    TokenRefreshUnavailableError,
    http_error,
)
from smart_app.outbox import ChangedInChartError, InDoubtError, RetrySchedule
from smart_app.outbox.failures import Disposition, handling_of

CREATE = RequestSummary("create", "POST", "DocumentReference")


def http(status: int, retry_after: float | None = None, text: str | None = None) -> Exception:
    issues = (OutcomeIssue("error", "invalid", diagnostics=text),) if text else ()
    return http_error(CREATE, ResponseSummary(status, retry_after=retry_after), issues)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, 409])
def test_transient_answers_are_retried(status: int) -> None:
    handling = handling_of(http(status, retry_after=12))
    assert handling.disposition is Disposition.RETRY and handling.retry_after == 12


def test_no_answer_is_retried() -> None:
    assert handling_of(FhirTimeoutError("timeout", request=CREATE)).disposition is (
        Disposition.RETRY
    )


@pytest.mark.parametrize("status", [400, 403, 404, 412, 422])
def test_refusals_fail_with_the_servers_words(status: int) -> None:
    handling = handling_of(http(status, text="subject: unknown patient"))
    assert handling.disposition is Disposition.FAIL
    assert handling.message.endswith("The EHR said: subject: unknown patient")
    assert "unknown patient" not in handling.log_summary  # the server's words stay out of logs


@pytest.mark.parametrize(
    "error",
    [
        http(401),
        TokenRefreshUnavailableError("no refresh token"),
        SessionExpiredError("ended", "expired"),
        TokenEndpointError("refused", "invalid_grant", error_code="invalid_grant"),
    ],
)
def test_a_dead_session_waits_for_sign_in(error: Exception) -> None:
    assert handling_of(error).disposition is Disposition.SIGN_IN


def test_a_token_endpoint_having_trouble_is_retried() -> None:
    error = TokenEndpointError("down", "HTTP 503 from the token endpoint")
    assert handling_of(error).disposition is Disposition.RETRY


def test_write_back_stops_carry_their_doubt() -> None:
    assert handling_of(InDoubtError("unsure")).in_doubt
    changed = handling_of(ChangedInChartError("changed elsewhere"))
    assert changed.disposition is Disposition.FAIL and not changed.in_doubt
    assert changed.message == "changed elsewhere"


def test_an_unusable_report_fails() -> None:
    error = InputProblemError([Problem("content_hash", "frozen-content-changed", "changed")])
    assert handling_of(error).disposition is Disposition.FAIL


def test_a_bug_of_ours_keeps_the_item_queued() -> None:
    handling = handling_of(KeyError("Patient/123"))
    assert handling.disposition is Disposition.RETRY
    assert handling.log_summary == "KeyError: unexpected"  # no message: it may hold data


def test_the_schedule_backs_off_and_honours_retry_after() -> None:
    schedule = RetrySchedule(base=2.0, cap=10.0, jitter=lambda: 1.0)
    assert [schedule.delay(n) for n in range(1, 6)] == [2.0, 4.0, 8.0, 10.0, 10.0]
    assert RetrySchedule(jitter=lambda: 0.0).delay(1) == 2.5  # half fixed, half random
    assert schedule.delay(3, retry_after=120.0) == 120.0
    assert schedule.delay(3, retry_after=86_400.0) == 3600.0


TRANSACTION = RequestSummary("transaction", "POST", "Bundle")


@pytest.mark.parametrize(
    ("status", "lead"),
    [
        (501, "The EHR does not support FHIR transactions (501 Not Implemented)"),
        (405, "The EHR does not support FHIR transactions (405 Method Not Allowed)"),
        (404, "The EHR's FHIR base did not accept a transaction (404 Not Found)"),
    ],
)
def test_a_transaction_the_ehr_does_not_take_fails_with_what_to_set(status: int, lead: str) -> None:
    issues = (OutcomeIssue("error", "not-supported", diagnostics="no transactions here"),)
    handling = handling_of(http_error(TRANSACTION, ResponseSummary(status), issues))
    assert handling.disposition is Disposition.FAIL
    assert handling.message.startswith(lead)
    assert '`write_mode` in the app\'s settings to "auto"' in handling.message
    assert '"per-resource"' in handling.message
    assert handling.message.endswith("The EHR said: no transactions here.")
    assert "Bundle was not found" not in handling.message


def test_a_write_the_ehr_does_not_implement_is_not_retried() -> None:
    handling = handling_of(http(501))
    assert handling.disposition is Disposition.FAIL
    assert handling.message.startswith(
        "The EHR does not support the FHIR create interaction on DocumentReference "
        "(501 Not Implemented)"
    )
    assert "`write_mode`" in handling.message and '"document"' in handling.message
