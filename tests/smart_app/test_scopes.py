import pytest
from hypothesis import given
from hypothesis import strategies as st

from smart_app.scopes import (
    CREATED_TYPES,
    READ_TYPES,
    UPDATED_TYPES,
    GrantedAccess,
    Interaction,
    LaunchKind,
    requested_scopes,
)


def test_v2_scopes_when_the_server_advertises_permission_v2() -> None:
    scopes = requested_scopes(["permission-v2", "permission-v1"], LaunchKind.EHR)
    assert scopes[:4] == ["launch", "openid", "fhirUser", "offline_access"]
    assert "patient/Observation.rs" in scopes
    assert "patient/DocumentReference.rs" in scopes
    assert "patient/DocumentReference.c" in scopes
    assert "patient/Provenance.c" in scopes
    assert {s for s in scopes if s.endswith(".rs")} == {f"patient/{t}.rs" for t in READ_TYPES}
    assert {s for s in scopes if s.endswith(".c")} == {f"patient/{t}.c" for t in CREATED_TYPES}
    assert not any(s.endswith((".read", ".write")) for s in scopes)


def test_v2_scopes_ask_to_update_what_an_amendment_updates() -> None:
    scopes = requested_scopes(["permission-v2"], LaunchKind.EHR)
    assert {s for s in scopes if s.endswith(".u")} == {f"patient/{t}.u" for t in UPDATED_TYPES}
    assert "patient/Provenance.u" not in scopes  # each version files its own
    granted = GrantedAccess.parse(" ".join(scopes))
    for resource_type in ("Procedure", "Observation", "DiagnosticReport", "DocumentReference"):
        assert granted.can(resource_type, Interaction.UPDATE)


def test_v1_write_scopes_cover_amendments() -> None:
    granted = GrantedAccess.parse(" ".join(requested_scopes(["permission-v1"], LaunchKind.EHR)))
    for resource_type in UPDATED_TYPES:
        assert granted.can(resource_type, Interaction.UPDATE)


def test_v1_scopes_when_v2_is_not_advertised() -> None:
    scopes = requested_scopes(["permission-v1", "launch-ehr"], LaunchKind.EHR)
    assert "patient/Observation.read" in scopes
    assert "patient/DocumentReference.write" in scopes
    assert "patient/Practitioner.read" in scopes
    assert not any(s.endswith((".rs", ".c")) for s in scopes)


def test_standalone_launch_asks_for_patient_context_instead_of_launch() -> None:
    scopes = requested_scopes(["permission-v2"], LaunchKind.STANDALONE)
    assert "launch/patient" in scopes
    assert "launch" not in scopes


def test_online_access_only_when_that_is_all_the_server_offers() -> None:
    assert "online_access" in requested_scopes(["permission-online"], LaunchKind.EHR)
    both = requested_scopes(["permission-online", "permission-offline"], LaunchKind.EHR)
    assert "offline_access" in both and "online_access" not in both


def test_registration_scopes_replace_the_computed_ones_but_keep_the_launch_context() -> None:
    override = ["openid", "fhirUser", "patient/*.read"]
    assert requested_scopes(["permission-v2"], LaunchKind.EHR, override) == ["launch", *override]
    kept = requested_scopes([], LaunchKind.STANDALONE, ["launch/patient", "patient/*.rs"])
    assert kept == ["launch/patient", "patient/*.rs"]


def test_v1_read_grants_read_and_search_but_not_create() -> None:
    access = GrantedAccess.parse("launch patient/Observation.read openid fhirUser")
    assert access.can_read("Observation") and access.can_search("Observation")
    assert not access.can_create("Observation")
    assert not access.can_read("Condition")
    assert access.openid and access.fhir_user and not access.offline_access


def test_v1_write_does_not_imply_read() -> None:
    access = GrantedAccess.parse("patient/DocumentReference.write")
    assert access.can_create("DocumentReference")
    assert access.can(resource_type="DocumentReference", interaction=Interaction.UPDATE)
    assert not access.can_read("DocumentReference")


def test_wildcards_cover_every_type() -> None:
    access = GrantedAccess.parse("patient/*.cruds")
    for resource_type in ("Patient", "Provenance", "DocumentReference"):
        assert all(access.can(resource_type, i) for i in Interaction)
    assert GrantedAccess.parse("user/*.*").can_create("Procedure")
    assert GrantedAccess.parse("patient/*.rs").can_search("Encounter")


def test_granular_scopes_allow_only_partly() -> None:
    category = "category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory"
    access = GrantedAccess.parse(f"patient/Observation.rs?{category}")
    assert not access.can_search("Observation")
    assert access.constraints("Observation", Interaction.SEARCH) == (category,)
    assert access.constraints("Condition", Interaction.SEARCH) == ()


@pytest.mark.parametrize(
    "scope",
    [
        "patient/Observation.sr",
        "patient/Observation.x",
        "patient/Observation.rr",
        "Observation.read",
        "patient/observation.rs",
    ],
)
def test_malformed_or_out_of_order_scopes_grant_nothing(scope: str) -> None:
    access = GrantedAccess.parse(scope)
    assert access.grants == ()
    assert access.unrecognised == (scope,)
    assert not access.can_read("Observation")


def test_uri_representation_of_scopes_is_understood() -> None:
    access = GrantedAccess.parse(
        "http://smarthealthit.org/fhir/scopes/patient/*.r "
        "http://openid.net/specs/openid-connect-core-1_0#openid"
    )
    assert access.can_read("Condition") and not access.can_search("Condition")
    assert access.openid


def test_launch_context_and_refresh_scopes_are_recorded() -> None:
    access = GrantedAccess.parse("launch launch/patient online_access")
    assert access.launch_context == frozenset({"launch", "launch/patient"})
    assert access.online_access and access.refresh_allowed


letters = st.sets(st.sampled_from("cruds"), min_size=1)


@given(letters)
def test_any_ordered_subset_of_cruds_grants_exactly_those_interactions(chosen: set[str]) -> None:
    perms = "".join(letter for letter in "cruds" if letter in chosen)
    access = GrantedAccess.parse(f"patient/Condition.{perms}")
    assert {i.value for i in Interaction if access.can("Condition", i)} == chosen
    assert not any(access.can("Patient", i) for i in Interaction)
