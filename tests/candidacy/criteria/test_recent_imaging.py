"""Imaging done and inconclusive: a spine MRI of the region within 12 months, attested."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

from plugin.candidacy import CriterionStatus, Order
from plugin.candidacy.partial_dates import add_months
from plugin.candidacy.policy_file import parse_policy, policy_path
from plugin.study.levels import Region
from tests.candidacy.chart_builder import (
    PATIENT,
    TODAY,
    assess,
    good_lumbar_chart,
    mri_report,
    without,
)

ID = "imaging-inconclusive"


def imaging(*studies: dict[str, Any], **extra: Any) -> Any:
    return assess([*without(good_lumbar_chart(), "mri-1"), *studies], **extra).criterion(ID)


def test_met_with_the_study_its_age_and_the_attestation() -> None:
    result = imaging(mri_report(when="2025-04-06"))
    assert result.status is CriterionStatus.MET
    assert result.explanation == (
        "MRI lumbar spine (DiagnosticReport/mri-1) on 2025-04-06 is 10 weeks old, within 12 "
        "months; attested in the app: imaging does not explain the patient's pain."
    )
    assert result.evidence[0].value == "L4-L5 disc degeneration with an annular fissure."


def test_twelve_months_to_the_day_is_within_the_window() -> None:
    edge = add_months(TODAY, -12)
    assert imaging(mri_report(when=edge.isoformat())).status is CriterionStatus.MET
    older = imaging(mri_report(when=(edge - timedelta(days=1)).isoformat()))
    assert older.status is CriterionStatus.NOT_MET
    assert older.resolve == "Order a current lumbar spine MRI."


def test_a_month_only_date_across_the_edge_is_unknown() -> None:
    result = imaging(mri_report(when="2024-06"))
    assert result.status is CriterionStatus.UNKNOWN
    assert result.explanation.endswith(
        "is dated only 2024-06: it may or may not be within 12 months."
    )


def test_without_the_attestation_the_criterion_is_unknown() -> None:
    result = imaging(mri_report(when="2025-04-06"), attest=("decision-hinges",))
    assert result.status is CriterionStatus.UNKNOWN
    assert result.resolve == "Attest that imaging does not explain the patient's pain."
    assert result.explanation.endswith(
        ", but it has not been attested that it does not explain the pain."
    )


def test_an_mri_of_the_spine_without_region_counts_for_any_region() -> None:
    study = mri_report(loinc="18756-7", text="MRI spine", when="2025-05-01")
    assert imaging(study).status is CriterionStatus.MET
    cervical = Order(region=Region.CERVICAL)
    assert imaging(study, order=cervical).status is CriterionStatus.MET


def test_a_generic_report_code_with_mri_words_counts() -> None:
    report = mri_report(loinc="18748-4", text="MRI L-spine without contrast", when="2025-05-01")
    assert imaging(report).status is CriterionStatus.MET


def test_other_modalities_and_regions_do_not_count() -> None:
    ct = mri_report(loinc=None, text="CT lumbar spine", when="2025-05-01")
    brain = mri_report(loinc=None, text="MRI brain", when="2025-05-01")
    cervical = mri_report(loinc="24935-9", text="MRI cervical spine", when="2025-05-01")
    result = imaging(ct, brain, cervical)
    assert result.status is CriterionStatus.UNKNOWN
    assert result.resolve == (
        "Attach the report of a lumbar spine MRI done within 12 months, or order one "
        "(LOINC 24968-0)."
    )


def test_an_imaging_study_is_read_by_its_series_too() -> None:
    study = {
        "resourceType": "ImagingStudy",
        "id": "is1",
        "status": "available",
        "subject": {"reference": PATIENT},
        "started": "2025-05-01T09:00:00Z",
        "series": [
            {"uid": "1.2", "modality": {"code": "MR"}, "description": "Sag T2 lumbar spine MRI"}
        ],
    }
    assert imaging(study).status is CriterionStatus.MET
    registered = study | {"status": "registered"}
    assert imaging(registered).status is CriterionStatus.UNKNOWN


def test_a_site_can_read_absence_as_not_met() -> None:
    site = copy.deepcopy(json.loads(policy_path().read_text(encoding="utf-8")))
    site["criteria"][2]["when_absent"] = "not-met"
    assert imaging(policy=parse_policy(site)).status is CriterionStatus.NOT_MET


def test_series_of_the_wrong_type_read_as_absent() -> None:
    study = {
        "resourceType": "ImagingStudy",
        "id": "is1",
        "status": "available",
        "subject": {"reference": PATIENT},
        "started": "2025-05-01T09:00:00Z",
        "series": 5,
    }
    result = imaging(study)  # no spine MRI is read from it
    assert result.explanation.startswith("No lumbar spine MRI is in the chart")


def test_a_study_dated_at_the_calendars_end_is_compared_without_error() -> None:
    assert imaging(mri_report(when="9999-12")).status is CriterionStatus.MET
