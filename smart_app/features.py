"""Which of the product's features the granted scopes allow, and why not (pure).

The patient page lists each feature with its state and, when limited or disabled, the reason in
plain words ("the EHR did not grant permission to create DocumentReference, so the report
cannot be written back"): an EHR may grant less than asked, and the user must not discover it
through a failed write.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from smart_app.scopes import GrantedAccess, Interaction

__all__ = ["Feature", "FeatureState", "FeatureStatus", "feature_statuses"]


class Feature(StrEnum):
    BANNER = "banner"
    CHART = "chart"
    WRITE_BACK = "write-back"
    USER = "user"
    STAY_SIGNED_IN = "stay-signed-in"


class FeatureState(StrEnum):
    AVAILABLE = "available"
    LIMITED = "limited"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class FeatureStatus:
    feature: Feature
    name: str  # what the clinician calls it
    state: FeatureState
    reasons: tuple[str, ...]  # why limited or disabled; empty when available


# What each searched type is for (the data, and what is lost without it), so a missing grant
# is explained in clinical terms.
_CHART_PURPOSES: dict[str, tuple[str, str]] = {
    "Condition": (
        "diagnoses such as back pain duration, infection or pregnancy",
        "cannot be checked",
    ),
    "Procedure": ("prior spine surgery and conservative care", "cannot be checked"),
    "ServiceRequest": ("the discography order", "cannot be found"),
    "Encounter": ("the visit the study belongs to", "cannot be found"),
    "MedicationRequest": ("anticoagulants and other active medications", "cannot be checked"),
    "MedicationStatement": ("medications the patient reports taking", "cannot be checked"),
    "AllergyIntolerance": ("contrast and other allergies", "cannot be checked"),
    "Observation": ("kidney function, clotting tests and pregnancy status", "cannot be checked"),
    "DiagnosticReport": ("spine MRI reports", "cannot be found"),
    "ImagingStudy": ("spine MRI studies", "cannot be found"),
    "DocumentReference": ("earlier discography reports", "cannot be found"),
}
_STRUCTURED_WRITES = ("Procedure", "Observation", "DiagnosticReport", "Provenance")


def _partly(access: GrantedAccess, resource_type: str, interaction: Interaction) -> str | None:
    constraints = access.constraints(resource_type, interaction)
    if access.can(resource_type, interaction) or not constraints:
        return None
    return " or ".join(constraints)


def _chart(access: GrantedAccess) -> FeatureStatus:
    reasons: list[str] = []
    missing = 0
    for resource_type, (data, lost) in _CHART_PURPOSES.items():
        if access.can_search(resource_type):
            continue
        partly = _partly(access, resource_type, Interaction.SEARCH)
        if partly is not None:
            reasons.append(
                f"the EHR allowed searching {resource_type} only where {partly}, so some "
                f"{data} may be missed"
            )
            continue
        missing += 1
        reasons.append(
            f"the EHR did not grant permission to search {resource_type}, so {data} {lost}"
        )
    if missing == len(_CHART_PURPOSES):
        state = FeatureState.DISABLED
    elif reasons:
        state = FeatureState.LIMITED
    else:
        state = FeatureState.AVAILABLE
    return FeatureStatus(Feature.CHART, "Check candidacy from the chart", state, tuple(reasons))


def _banner(access: GrantedAccess) -> FeatureStatus:
    if access.can_read("Patient"):
        return FeatureStatus(Feature.BANNER, "Show the patient", FeatureState.AVAILABLE, ())
    return FeatureStatus(
        Feature.BANNER,
        "Show the patient",
        FeatureState.DISABLED,
        (
            "the EHR did not grant permission to read Patient, so the patient's name, birth date "
            "and sex cannot be shown here — check them in the EHR",
        ),
    )


def _write_back(access: GrantedAccess) -> FeatureStatus:
    name = "Write the report back to the EHR"
    if not access.can_create("DocumentReference"):
        partly = _partly(access, "DocumentReference", Interaction.CREATE)
        reason = (
            f"the EHR allowed creating DocumentReference only where {partly}, which the report "
            "may not match, so the report cannot be written back"
            if partly
            else "the EHR did not grant permission to create DocumentReference, so the report "
            "cannot be written back"
        )
        return FeatureStatus(Feature.WRITE_BACK, name, FeatureState.DISABLED, (reason,))
    reasons = tuple(
        f"the EHR did not grant permission to create {t}, so only the report document is "
        "written back, without the structured results"
        for t in _STRUCTURED_WRITES
        if not access.can_create(t)
    )
    state = FeatureState.LIMITED if reasons else FeatureState.AVAILABLE
    return FeatureStatus(Feature.WRITE_BACK, name, state, reasons)


def _user(access: GrantedAccess, user_known: bool) -> FeatureStatus:
    name = "Show who is signed in"
    if access.openid and access.fhir_user and user_known:
        return FeatureStatus(Feature.USER, name, FeatureState.AVAILABLE, ())
    if not (access.openid and access.fhir_user):
        reason = "the EHR did not grant openid fhirUser, so the app cannot tell who is signed in"
    else:
        reason = "the EHR did not let the app read the signed-in user's record"
    return FeatureStatus(Feature.USER, name, FeatureState.DISABLED, (reason,))


def _stay_signed_in(access: GrantedAccess, has_refresh_token: bool) -> FeatureStatus:
    name = "Stay signed in"
    if has_refresh_token:
        return FeatureStatus(Feature.STAY_SIGNED_IN, name, FeatureState.AVAILABLE, ())
    reason = (
        "the EHR granted offline access but sent no refresh token"
        if access.refresh_allowed
        else "the EHR did not grant offline_access or online_access"
    )
    return FeatureStatus(
        Feature.STAY_SIGNED_IN,
        name,
        FeatureState.LIMITED,
        (
            f"{reason}, so the session ends when the access token expires; open the app from the "
            "EHR again then",
        ),
    )


def feature_statuses(
    access: GrantedAccess, *, has_refresh_token: bool, user_known: bool
) -> list[FeatureStatus]:
    return [
        _banner(access),
        _chart(access),
        _write_back(access),
        _user(access, user_known),
        _stay_signed_in(access, has_refresh_token),
    ]
