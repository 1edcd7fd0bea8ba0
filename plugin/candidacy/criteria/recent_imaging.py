"""Imaging done and inconclusive: a spine MRI of the ordered region within N months, and the
physician's attestation that imaging does not explain the pain (method ``recent-imaging``;
shared/clinical.md §4, Anthem CG-SURG-29, seed 000).

Studies come from DiagnosticReport and ImagingStudy, recognised by a listed LOINC code or, with
no LOINC coding, by text naming the modality and the spine or a region. A study of the spine
with no region (LOINC 18756-7, "MRI spine") counts for any ordered region. A study "within 12
months" is one whose date plus 12 calendar months is today or later; for a partial date the
earliest day must qualify for certainty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from plugin.candidacy.assessment import CriterionAssessment, CriterionStatus, Evidence
from plugin.candidacy.context import AssessmentContext
from plugin.candidacy.elements import repeating
from plugin.candidacy.evidence import evidence, main_concepts
from plugin.candidacy.partial_dates import PartialDate, add_months, duration_words
from plugin.candidacy.phrases import months, named
from plugin.candidacy.policy import RecentImagingCriterion, WhenAbsent
from plugin.candidacy.record_status import status
from plugin.candidacy.selections import recorded_date, timing
from plugin.candidacy.value_sets import concept_texts
from plugin.study.levels import Region

__all__ = ["assess_recent_imaging"]

Resource = Mapping[str, Any]
StudyRegion = Region | Literal["unspecified"]

#: Report and study statuses with a readable result (diagnostic-report-status,
#: imagingstudy-status); a missing status is accepted.
_REPORTED = frozenset({"final", "amended", "corrected", "appended", "preliminary"})
_AVAILABLE = frozenset({"available"})
_CONCLUSION_SHOWN = 200


@dataclass(frozen=True, slots=True)
class _Study:
    resource: Resource
    region: StudyRegion
    when: PartialDate | None


def assess_recent_imaging(
    context: AssessmentContext, criterion: RecentImagingCriterion
) -> CriterionAssessment:
    today = context.today
    window = criterion.max_age_months
    region = context.order.region
    studies = sorted(
        (
            s
            for s in _studies(context, criterion)
            if region is None or s.region in (region, "unspecified")
        ),
        key=lambda s: (s.when.latest.isoformat() if s.when else "", _ref(s)),
        reverse=True,
    )
    attested = context.attested(criterion.attestation)
    attestation = (
        context.policy.attestation(criterion.attestation).text.rstrip(".")
        if criterion.attestation
        else None
    )
    what = f"{region.value} spine MRI" if region else "spine MRI"
    within = f"within {months(window)}"

    def recent(when: PartialDate, reading: Literal["earliest", "latest"]) -> bool:
        return add_months(getattr(when, reading), window) >= today

    certain = [s for s in studies if s.when is not None and recent(s.when, "earliest")]
    possible = [s for s in studies if s.when is not None and recent(s.when, "latest")]
    undated = [s for s in studies if s.when is None]
    shown = tuple(_evidence(s) for s in studies[:3])

    def result(
        status: CriterionStatus, explanation: str, resolve: str | None = None
    ) -> CriterionAssessment:
        return CriterionAssessment(
            id=criterion.id,
            title=criterion.title,
            status=status,
            explanation=explanation,
            evidence=shown,
            resolve=resolve,
        )

    attest_part = (
        # Not "the physician attests": the engine knows an attestation was given, not by whom.
        f"; attested in the app: {attestation[:1].lower()}{attestation[1:]}"
        if attested and attestation
        else ""
    )
    need_attest = (
        f"Attest that {attestation[:1].lower()}{attestation[1:]}."
        if attestation and not attested
        else None
    )
    if certain:
        study = certain[0]
        assert study.when is not None
        found = (
            f"{_study_words(study)} on {study.when} is "
            f"{duration_words(study.when.earliest, today)} old, {within}"
        )
        if attestation is None or attested:
            return result(CriterionStatus.MET, f"{found}{attest_part}.")
        return result(
            CriterionStatus.UNKNOWN,
            f"{found}, but it has not been attested that it does not explain the pain.",
            need_attest,
        )
    if possible:
        study = possible[0]
        assert study.when is not None
        return result(
            CriterionStatus.UNKNOWN,
            f"{_study_words(study)} is dated only {study.when}: it may or may not be {within}.",
            f"Record the exact date of {named(study.resource)}"
            + (f"; also {need_attest[0].lower()}{need_attest[1:]}" if need_attest else "."),
        )
    dated = [s for s in studies if s.when is not None]
    if dated:
        study = dated[0]
        assert study.when is not None
        return result(
            CriterionStatus.NOT_MET,
            f"The latest {what}, {_study_words(study)} on {study.when}, is "
            f"{duration_words(study.when.latest, today)} old; the policy needs one {within}.",
            f"Order a current {what}.",
        )
    if undated:
        return result(
            CriterionStatus.UNKNOWN,
            f"{_study_words(undated[0])} has no date, so it cannot be shown to be {within}.",
            f"Record the date of {named(undated[0].resource)}.",
        )
    codes = criterion.codes.get(region) if region else None
    code_hint = f" (LOINC {codes.codes[0].code})" if codes and codes.codes else ""
    status = (
        CriterionStatus.UNKNOWN
        if criterion.when_absent is WhenAbsent.UNKNOWN
        else CriterionStatus.NOT_MET
    )
    return result(
        status,
        f"No {what} is in the chart; the policy needs one {within}.",
        f"Attach the report of a {what} done {within}, or order one{code_hint}.",
    )


def _studies(context: AssessmentContext, criterion: RecentImagingCriterion) -> list[_Study]:
    found: list[_Study] = []
    for resource in context.chart.of_type("DiagnosticReport", "ImagingStudy"):
        accepted = _REPORTED if resource["resourceType"] == "DiagnosticReport" else _AVAILABLE
        value = status(resource)
        if value is not None and value not in accepted:
            continue
        region = _region(context, criterion, resource)
        if region is None:
            continue
        when = timing(resource).start or recorded_date(resource)
        found.append(_Study(resource, region, when))
    return found


def _region(
    context: AssessmentContext, criterion: RecentImagingCriterion, resource: Resource
) -> StudyRegion | None:
    """The region a study images, when it is a spine MRI of the policy; None otherwise."""
    concepts = main_concepts(resource)
    for key, value_set in criterion.codes.items():
        if any(value_set.matched_code(concept) is not None for concept in concepts):
            return key
    # Without a listed code (a report typed only "Diagnostic imaging study", a local code),
    # the words must name the modality and the spine or a region.
    texts = [text for concept in concepts for text in concept_texts(concept)]
    if isinstance(resource.get("description"), str):
        texts.append(resource["description"])
    for series in repeating(resource.get("series")):
        if isinstance(series, Mapping):
            if isinstance(series.get("description"), str):
                texts.append(series["description"])
            texts.extend(concept_texts(series.get("bodySite")))
    if not criterion.modality_text.matches_text(*texts):
        return None
    for key, value_set in criterion.region_text.items():
        if key != "unspecified" and value_set.matches_text(*texts):
            return key
    unspecified = criterion.region_text.get("unspecified")
    if unspecified is not None and unspecified.matches_text(*texts):
        return "unspecified"
    return None


def _study_words(study: _Study) -> str:
    return named(study.resource)


def _ref(study: _Study) -> str:
    return str(study.resource.get("id", ""))


def _evidence(study: _Study) -> Evidence:
    conclusion = study.resource.get("conclusion")
    value = None
    if isinstance(conclusion, str) and conclusion.strip():
        text = " ".join(conclusion.split())
        value = text if len(text) <= _CONCLUSION_SHOWN else text[: _CONCLUSION_SHOWN - 1] + "…"
    if study.when is not None:
        return evidence(study.resource, date=study.when, value=value)
    return evidence(study.resource, value=value)
