"""The statuses the product writes — at the first filing and in an amendment — as ValueSets
the profiles bind their status elements to (each a subset of the R4 value set of the element).

A first filing writes a Procedure whose status says whether any disc was injected, `final`
results and report, a `current` note whose docStatus is `final`, and a Provenance whose
activity is CREATE (`plugin.fhir_mapping`). An amendment writes the
words of `plugin.writeback.amendment`; each code below says when it is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from plugin.conformance.canonicals import value_set_url
from plugin.conformance.differential import required_binding
from plugin.fhir_mapping.coding import PROVENANCE_ACTIVITY_CREATE
from plugin.fhir_mapping.observation import NOT_COMPLETED_STATUS
from plugin.fhir_mapping.procedure import (
    PROCEDURE_COMPLETED,
    PROCEDURE_NOT_DONE,
    PROCEDURE_STOPPED,
)
from plugin.terminology import system_url
from plugin.writeback.amendment import (
    AMENDED,
    AMENDED_DOC_STATUS,
    ENTERED_IN_ERROR,
    PROVENANCE_ACTIVITY_UPDATE,
    SUPERSEDED,
)

__all__ = [
    "DOCUMENT_DOC_STATUS",
    "DOCUMENT_STATUS",
    "OBSERVATION_STATUS",
    "PROCEDURE_STATUS",
    "PROVENANCE_ACTIVITY",
    "REPORT_STATUS",
    "STATUS_VALUE_SETS",
    "StatusValueSet",
    "WrittenCode",
    "status_binding",
]

_FINAL = "final"


@dataclass(frozen=True, slots=True)
class WrittenCode:
    """A code the product writes in an element, and when."""

    code: str
    when: str


@dataclass(frozen=True, slots=True)
class StatusValueSet:
    id: str
    title: str
    element: str  # the element bound, e.g. "Observation.status"
    system: str  # the R4 code system of the element's own value set
    codes: tuple[WrittenCode, ...]

    @property
    def description(self) -> str:
        uses = "; ".join(f"{c.code}: {c.when}" for c in self.codes)
        return f"The codes the discography plugin writes in {self.element}. {uses}."


PROCEDURE_STATUS = StatusValueSet(
    id="discography-procedure-status",
    title="Discography procedure statuses",
    element="Procedure.status",
    system="http://hl7.org/fhir/event-status",
    codes=(
        WrittenCode(PROCEDURE_COMPLETED, "at least one disc was injected to completion"),
        WrittenCode(
            PROCEDURE_STOPPED,
            "no disc injection was completed, but at least one was begun and aborted",
        ),
        WrittenCode(
            PROCEDURE_NOT_DONE,
            "no disc was entered: the needle reached the nucleus of none, so nothing was injected",
        ),
    ),
)
OBSERVATION_STATUS = StatusValueSet(
    id="discography-observation-status",
    title="Discography level result statuses",
    element="Observation.status",
    system="http://hl7.org/fhir/observation-status",
    codes=(
        WrittenCode(_FINAL, "a level result as first filed with a signed report"),
        WrittenCode(
            NOT_COMPLETED_STATUS,
            "a level whose injection was not completed (the needle did not reach the nucleus, "
            "or the injection was aborted): it has no result, and its technical-result "
            "component says why; it stays cancelled when a later version changes it",
        ),
        WrittenCode(
            AMENDED,
            "a level result filed earlier whose content a later signed version of the report "
            "changed (updated in place)",
        ),
        WrittenCode(
            ENTERED_IN_ERROR,
            "a level result filed earlier that a later signed version of the report no longer "
            "has (withdrawn: it was recorded in error)",
        ),
    ),
)
REPORT_STATUS = StatusValueSet(
    id="discography-report-status",
    title="Discography report statuses",
    element="DiagnosticReport.status",
    system="http://hl7.org/fhir/diagnostic-report-status",
    codes=(
        WrittenCode(_FINAL, "the report as first filed when signed"),
        WrittenCode(
            AMENDED,
            "the report filed earlier, updated in place by a later signed version",
        ),
    ),
)
DOCUMENT_STATUS = StatusValueSet(
    id="discography-document-status",
    title="Discography report note statuses",
    element="DocumentReference.status",
    system="http://hl7.org/fhir/document-reference-status",
    codes=(
        WrittenCode("current", "every note when it is filed, first version or later"),
        WrittenCode(
            SUPERSEDED,
            "the previous version's note, once the note of a later signed version replaces it "
            "(where the EHR lets the app update notes)",
        ),
    ),
)
DOCUMENT_DOC_STATUS = StatusValueSet(
    id="discography-document-doc-status",
    title="Discography report note document statuses",
    element="DocumentReference.docStatus",
    system="http://hl7.org/fhir/composition-status",
    codes=(
        WrittenCode(
            _FINAL,
            "the note of the first signed version (and of a later one when no earlier note "
            "is known in the chart)",
        ),
        WrittenCode(
            AMENDED_DOC_STATUS,
            "the note of a later signed version, which replaces the earlier note",
        ),
    ),
)
PROVENANCE_ACTIVITY = StatusValueSet(
    id="discography-provenance-activity",
    title="Discography provenance activities",
    element="Provenance.activity",
    system=system_url(PROVENANCE_ACTIVITY_CREATE.system_key),
    codes=(
        WrittenCode(
            PROVENANCE_ACTIVITY_CREATE.code,
            "a signed version that only creates resources (the first filing)",
        ),
        WrittenCode(
            PROVENANCE_ACTIVITY_UPDATE.code,
            "a later signed version that changes resources already in the chart (amended, "
            "withdrawn or superseded) — the resources it creates alongside, such as the "
            "replacing note, are part of that revision",
        ),
    ),
)

#: In profile write order.
STATUS_VALUE_SETS = (
    PROCEDURE_STATUS,
    OBSERVATION_STATUS,
    REPORT_STATUS,
    DOCUMENT_STATUS,
    DOCUMENT_DOC_STATUS,
    PROVENANCE_ACTIVITY,
)


def status_binding(value_set: StatusValueSet) -> dict[str, Any]:
    """The required binding of the element to the statuses the product writes."""
    return required_binding(value_set_url(value_set.id), value_set.description)
