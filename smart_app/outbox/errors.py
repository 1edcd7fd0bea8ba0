"""What can go wrong writing a signed report, besides the EHR's own errors
(`smart_app.fhir_errors`), which the worker classifies.

    SmartError (smart_app.errors)
    ├── OutboxActionError     – a user action on the outbox cannot be done (409 / 404)
    └── SignInRequiredError   – the item's EHR session is gone: wait for the user's next launch
    DiscographyError (plugin.errors)
    └── WriteBackError        – the write cannot go on safely; the item stops as failed
        ├── InDoubtError      – a create may or may not have landed and cannot be checked
        ├── ChangedInChartError – a resource to update was changed in the EHR since
        ├── TransactionNotConfirmedError – the EHR answered a transaction without confirming
        │                       every entry stored; the next attempt reconciles first
        └── LeaseLostError    – another worker took the item over (nothing to record)

The messages name resources by type and by what they are to the study, never by id or content.
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus

from plugin.errors import DiscographyError
from plugin.writeback import StepAction, StepRole, WriteStep
from plugin.writeback.transaction import EntryRefusal
from smart_app.errors import SmartError
from smart_app.fhir_errors import OutcomeIssue, outcome_issues
from smart_app.outbox.chart_changes import ChartChange

__all__ = [
    "ChangedInChartError",
    "InDoubtError",
    "LeaseLostError",
    "OutboxActionError",
    "SignInRequiredError",
    "TransactionNotConfirmedError",
    "WriteBackError",
    "ehr_said",
    "study_resource",
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
    """`changes`: the chart's copies found changed (empty when the EHR refused without saying
    which); the user may review them and agree to write the report over exactly those."""

    def __init__(self, message: str, changes: Sequence[ChartChange] = ()) -> None:
        super().__init__(message)
        self.changes = tuple(changes)

    @classmethod
    def of(
        cls, steps: Sequence[WriteStep], changes: Sequence[ChartChange] = ()
    ) -> ChangedInChartError:
        """The resources `steps` update were changed in the chart (at least one step)."""
        names = _joined([study_resource(s) for s in steps])
        many = len(steps) > 1
        review = _REVIEW_THEN_CONFIRM if changes else _REVIEW
        return cls(
            f"{_capitalised(names)} {'were' if many else 'was'} changed in the EHR since this "
            f"report last wrote {'them' if many else 'it'}; the app did not overwrite "
            f"{'those changes' if many else 'that change'}. {review}",
            changes,
        )

    @classmethod
    def somewhere(
        cls, steps: Sequence[WriteStep], issues: Sequence[OutcomeIssue]
    ) -> ChangedInChartError:
        """A transaction refused with 412 where no resource it updates shows the change:
        `steps` are the transaction's entries, `issues` the EHR's OperationOutcome."""
        updated = [s for s in steps if s.action is StepAction.UPDATE] or list(steps)
        types = _joined(sorted({s.resource_type for s in updated}))
        return cls(
            "The EHR refused to apply the report (412 Precondition Failed): one of this "
            f"study's resources it writes ({types}) was changed in the EHR since this report "
            "last wrote it, or is in the chart more than once. The app did not overwrite "
            f"anything. Review them in the chart, then sign the report again.{ehr_said(issues)}"
        )


class TransactionNotConfirmedError(WriteBackError):
    """The EHR answered a transaction without confirming that it stored every entry. What it
    stored, if anything, is not known: the ledger keeps those entries `intended`, so the next
    attempt checks the chart by identifier before sending anything again. `in_doubt` when no
    entry can be checked that way (the user must look in the chart)."""

    def __init__(self, message: str, *, in_doubt: bool) -> None:
        super().__init__(message)
        self.in_doubt = in_doubt

    @classmethod
    def refused(
        cls, refusals: Sequence[EntryRefusal], *, in_doubt: bool
    ) -> TransactionNotConfirmedError:
        """Entries answered with an error status (at least one)."""
        first = refusals[0]
        others = len(refusals) - 1
        also = (
            f" It refused {others} other resource{'s' if others > 1 else ''} of the report too."
            if others
            else ""
        )
        return cls(
            f"The EHR did not apply the report: it refused {study_resource(first.step)} with "
            f"{_status_words(first.status)}.{ehr_said(outcome_issues(first.outcome))}{also} "
            f"{_unknown(in_doubt)}",
            in_doubt=in_doubt,
        )

    @classmethod
    def malformed(cls, problem: str, *, in_doubt: bool) -> TransactionNotConfirmedError:
        """An answer not shaped as a transaction-response (`problem` says how)."""
        return cls(
            "The EHR answered the report's transaction without confirming that it stored each "
            f"resource ({problem}). {_unknown(in_doubt)}",
            in_doubt=in_doubt,
        )

    @classmethod
    def unlocated(cls, steps: Sequence[WriteStep]) -> TransactionNotConfirmedError:
        """Creates answered 2xx without a location, which a search of the chart does not
        find (yet): not recorded as written on the EHR's word alone."""
        names = _joined([study_resource(s) for s in steps])
        many = len(steps) > 1
        return cls(
            f"The EHR said it stored {names} but not where, and a search of the chart does not "
            f"find {'them' if many else 'it'} (yet), so {'they are' if many else 'it is'} not "
            "recorded as written. Sending the report again first searches the chart and files "
            "only what is still missing.",
            in_doubt=False,
        )


class LeaseLostError(WriteBackError):
    pass


def study_resource(step: WriteStep) -> str:
    """The resource `step` writes, by type and by what it is to the study: "the
    DiagnosticReport of this study"."""
    what = (
        _PREVIOUS_NOTE
        if step.role is StepRole.SUPERSEDE
        else _WHAT.get(step.resource_type, "of this study")
    )
    return f"the {step.resource_type} {what}"


_WHAT = {
    "Observation": "holding a level result of this study",
    "DocumentReference": "holding this study's clinical note",
    "Provenance": "recording who signed this study's report",
}
_PREVIOUS_NOTE = "holding this study's previous clinical note"
_REVIEW = "Review it in the chart, then sign the report again."
_REVIEW_THEN_CONFIRM = (
    "Review the change in the chart. To replace it with this report, confirm that below and "
    "send this version again; to keep it, leave this version unsent."
)


def _joined(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _status_words(status: str) -> str:
    """ "422 Unprocessable Entity" from "422" or as sent; "no status" when none was sent."""
    if not status:
        return "no status"
    code = status.split(" ", 1)[0]
    if code == status and code.isdigit():
        try:
            return f"{code} {HTTPStatus(int(code)).phrase}"
        except ValueError:
            return status
    return status


def ehr_said(issues: Sequence[OutcomeIssue]) -> str:
    """The EHR's own explanation (errors first: its warnings rarely explain a refusal)."""
    explained = [i.text for i in issues if i.is_error] or [i.text for i in issues]
    said = "; ".join(explained).rstrip(". ")
    return f" The EHR said: {said}." if said else ""


def _unknown(in_doubt: bool) -> str:
    if in_doubt:
        return (
            "It may still have stored part of the report, and this EHR offers no way to check: "
            "check the patient's chart; send the report again only if it is not there."
        )
    return (
        "It may still have stored part of the report, so nothing is recorded as written; "
        "sending the report again first checks the chart for each resource and files only "
        "what is missing."
    )
