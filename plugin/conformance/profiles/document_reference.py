"""Profile `discography-document-reference`: the report filed as a clinical note.

The path every EHR accepts (shared/standards.md §5): the report as PDF and as plain text,
pointing back at the DiagnosticReport.
"""

from __future__ import annotations

from plugin.conformance.base_elements import ElementDefinition
from plugin.conformance.canonicals import value_set_url
from plugin.conformance.differential import (
    declares_profile,
    element,
    identifier_slices,
    pattern_slicing,
    reference_to,
    required_binding,
    single_coded_slice,
)
from plugin.conformance.statuses import DOCUMENT_DOC_STATUS, DOCUMENT_STATUS, status_binding
from plugin.conformance.structure_definition import Profile
from plugin.conformance.value_sets import DOCUMENT_TYPE_VALUE_SET
from plugin.fhir_mapping.coding import DOCUMENT_CATEGORY_CLINICAL_NOTE
from plugin.fhir_mapping.profiles import (
    DIAGNOSTIC_REPORT_PROFILE,
    DOCUMENT_REFERENCE_PROFILE,
    profile_url,
)

__all__ = ["document_reference_profile"]

_URL = profile_url(DOCUMENT_REFERENCE_PROFILE)
_DOCUMENT = "DocumentReference"
_CONTENT = f"{_DOCUMENT}.content"
_ATTACHMENTS = (
    ("pdf", "application/pdf", "The report as PDF"),
    ("text", "text/plain; charset=utf-8", "The report as plain text (what every EHR accepts)"),
)


def _content() -> list[ElementDefinition]:
    elements = [
        element(
            _CONTENT,
            min=len(_ATTACHMENTS),
            slicing=pattern_slicing("attachment", "The report, by content type"),
            mustSupport=True,
        )
    ]
    for name, content_type, short in _ATTACHMENTS:
        slice_id = f"{_CONTENT}:{name}"
        elements += [
            element(slice_id, short=short, min=1, max="1", mustSupport=True),
            element(f"{slice_id}.attachment", patternAttachment={"contentType": content_type}),
            element(f"{slice_id}.attachment.data", min=1),
            element(f"{slice_id}.attachment.title", min=1),
        ]
    return elements


def document_reference_profile() -> Profile:
    differential: list[ElementDefinition] = [
        element(
            _DOCUMENT,
            short="Provocative discography report (clinical note)",
            definition="The discography report filed as a clinical note, as PDF and plain "
            "text, pointing at the structured DiagnosticReport.",
            constraint=[declares_profile(_URL)],
        ),
        *identifier_slices(_DOCUMENT),
        element(f"{_DOCUMENT}.status", binding=status_binding(DOCUMENT_STATUS), mustSupport=True),
        element(
            f"{_DOCUMENT}.docStatus",
            min=1,
            binding=status_binding(DOCUMENT_DOC_STATUS),
            mustSupport=True,
        ),
        element(
            f"{_DOCUMENT}.type",
            min=1,
            binding=required_binding(
                value_set_url(DOCUMENT_TYPE_VALUE_SET), "As the EHR registration configures"
            ),
            mustSupport=True,
        ),
        *single_coded_slice(
            f"{_DOCUMENT}.category",
            "clinicalNote",
            "Clinical note",
            DOCUMENT_CATEGORY_CLINICAL_NOTE,
        ),
        element(f"{_DOCUMENT}.subject", min=1, type=reference_to("Patient"), mustSupport=True),
        element(f"{_DOCUMENT}.date", min=1, mustSupport=True),
        element(f"{_DOCUMENT}.author", mustSupport=True),
        element(f"{_DOCUMENT}.description", min=1, mustSupport=True),
        *_content(),
        element(f"{_DOCUMENT}.context", min=1, mustSupport=True),
        element(f"{_DOCUMENT}.context.encounter", mustSupport=True),
        element(f"{_DOCUMENT}.context.period", mustSupport=True),
        element(
            f"{_DOCUMENT}.context.related",
            min=1,
            type=reference_to(profile_url(DIAGNOSTIC_REPORT_PROFILE)),
            mustSupport=True,
        ),
    ]
    return Profile(
        id=DOCUMENT_REFERENCE_PROFILE,
        type=_DOCUMENT,
        name="DiscographyDocumentReference",
        title="Provocative discography report document",
        description="The discography report as a clinical note: LOINC document type, PDF and "
        "plain-text content, and a link to the DiagnosticReport.",
        differential=tuple(differential),
    )
