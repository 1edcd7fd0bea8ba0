from smart_app.features import Feature, FeatureState, feature_statuses
from smart_app.scopes import GrantedAccess, LaunchKind, requested_scopes


def statuses(scope: str, *, refresh: bool = True, user: bool = True) -> dict[Feature, object]:
    access = GrantedAccess.parse(scope)
    return {
        s.feature: s for s in feature_statuses(access, has_refresh_token=refresh, user_known=user)
    }


def full_scope() -> str:
    return " ".join(requested_scopes(["permission-v2"], LaunchKind.EHR))


def test_everything_available_when_everything_asked_was_granted() -> None:
    for status in statuses(full_scope()).values():
        assert status.state is FeatureState.AVAILABLE, status
        assert status.reasons == ()


def test_no_document_reference_create_disables_write_back_and_says_why() -> None:
    scope = full_scope().replace("patient/DocumentReference.c", "")
    write_back = statuses(scope)[Feature.WRITE_BACK]
    assert write_back.state is FeatureState.DISABLED
    assert write_back.reasons == (
        "the EHR did not grant permission to create DocumentReference, so the report cannot be "
        "written back",
    )


def test_missing_structured_creates_limit_write_back_to_the_document() -> None:
    scope = full_scope().replace("patient/Observation.c", "")
    write_back = statuses(scope)[Feature.WRITE_BACK]
    assert write_back.state is FeatureState.LIMITED
    assert len(write_back.reasons) == 1
    assert "create Observation" in write_back.reasons[0]


def test_missing_searches_limit_the_chart_check_in_clinical_words() -> None:
    scope = full_scope().replace("patient/MedicationRequest.rs", "")
    chart = statuses(scope)[Feature.CHART]
    assert chart.state is FeatureState.LIMITED
    assert chart.reasons == (
        "the EHR did not grant permission to search MedicationRequest, so anticoagulants and "
        "other active medications cannot be checked",
    )


def test_no_search_at_all_disables_the_chart_check() -> None:
    assert statuses("launch patient/Patient.r")[Feature.CHART].state is FeatureState.DISABLED


def test_granular_search_is_limited_and_names_the_constraint() -> None:
    scope = full_scope().replace(
        "patient/Observation.rs", "patient/Observation.rs?category=laboratory"
    )
    chart = statuses(scope)[Feature.CHART]
    assert chart.state is FeatureState.LIMITED
    assert "only where category=laboratory" in chart.reasons[0]


def test_v1_spelling_grants_the_same_features() -> None:
    scope = " ".join(requested_scopes(["permission-v1"], LaunchKind.EHR))
    assert all(s.state is FeatureState.AVAILABLE for s in statuses(scope).values())


def test_no_patient_read_disables_the_banner() -> None:
    banner = statuses("launch patient/Observation.rs")[Feature.BANNER]
    assert banner.state is FeatureState.DISABLED
    assert "read Patient" in banner.reasons[0]


def test_without_refresh_token_the_session_ends_with_the_access_token() -> None:
    status = statuses("launch openid fhirUser", refresh=False)[Feature.STAY_SIGNED_IN]
    assert status.state is FeatureState.LIMITED
    assert "did not grant offline_access" in status.reasons[0]


def test_without_openid_fhiruser_the_user_is_unknown() -> None:
    status = statuses("launch patient/*.rs", user=False)[Feature.USER]
    assert status.state is FeatureState.DISABLED
    assert "openid fhirUser" in status.reasons[0]
