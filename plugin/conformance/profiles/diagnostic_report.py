"""Profile `discography-diagnostic-report`: the structured discography report.

Points at the level Observations, concludes with the study conclusion code and carries the
rendered report as HTML and PDF.
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
from plugin.conformance.statuses import REPORT_STATUS, status_binding
from plugin.conformance.structure_definition import Profile
from plugin.conformance.value_sets import STUDY_TYPE_VALUE_SET
from plugin.fhir_mapping.coding import REPORT_CATEGORY_RADIOLOGY
from plugin.fhir_mapping.profiles import (
    DIAGNOSTIC_REPORT_PROFILE,
    LEVEL_OBSERVATION_PROFILE,
    profile_url,
)

__all__ = ["diagnostic_report_profile"]

_URL = profile_url(DIAGNOSTIC_REPORT_PROFILE)
_REPORT = "DiagnosticReport"
_FORMS = (
    ("html", "text/html", "The report as HTML"),
    ("pdf", "application/pdf", "The report as PDF"),
)


def _presented_forms() -> list[ElementDefinition]:
    elements = [
        element(
            f"{_REPORT}.presentedForm",
            min=len(_FORMS),
            slicing=pattern_slicing("$this", "The rendered report, by content type"),
            mustSupport=True,
        )
    ]
    for name, content_type, short in _FORMS:
        slice_id = f"{_REPORT}.presentedForm:{name}"
        elements += [
            element(
                slice_id,
                short=short,
                min=1,
                max="1",
                patternAttachment={"contentType": content_type},
                mustSupport=True,
            ),
            element(f"{slice_id}.data", min=1),
            element(f"{slice_id}.title", min=1),
        ]
    return elements


def diagnostic_report_profile() -> Profile:
    differential: list[ElementDefinition] = [
        element(
            _REPORT,
            short="Provocative discography report",
            definition="The structured report of a provocative discography study: the level "
            "results, the conclusion and the rendered report.",
            constraint=[declares_profile(_URL)],
        ),
        *identifier_slices(_REPORT),
        element(f"{_REPORT}.status", binding=status_binding(REPORT_STATUS), mustSupport=True),
        *single_coded_slice(
            f"{_REPORT}.category", "radiology", "Radiology", REPORT_CATEGORY_RADIOLOGY
        ),
        element(
            f"{_REPORT}.code",
            binding=required_binding(
                value_set_url(STUDY_TYPE_VALUE_SET),
                "LOINC discography study by region; unspecified region for several regions",
            ),
            mustSupport=True,
        ),
        element(f"{_REPORT}.subject", min=1, type=reference_to("Patient"), mustSupport=True),
        element(f"{_REPORT}.encounter", mustSupport=True),
        element(f"{_REPORT}.effective[x]", type=[{"code": "dateTime"}], mustSupport=True),
        element(f"{_REPORT}.issued", min=1, mustSupport=True),
        element(f"{_REPORT}.performer", mustSupport=True),
        element(f"{_REPORT}.resultsInterpreter", mustSupport=True),
        element(
            f"{_REPORT}.result",
            min=1,
            type=reference_to(profile_url(LEVEL_OBSERVATION_PROFILE)),
            mustSupport=True,
        ),
        element(f"{_REPORT}.conclusion", min=1, mustSupport=True),
        element(
            f"{_REPORT}.conclusionCode",
            min=1,
            max="1",
            binding=required_binding(
                value_set_url("study-conclusion"), "The study-level conclusion"
            ),
            mustSupport=True,
        ),
        *_presented_forms(),
    ]
    return Profile(
        id=DIAGNOSTIC_REPORT_PROFILE,
        type=_REPORT,
        name="DiscographyDiagnosticReport",
        title="Provocative discography report",
        description="The discography report: LOINC study code, level results, conclusion "
        "text and code, and the rendered report as HTML and PDF.",
        differential=tuple(differential),
    )
