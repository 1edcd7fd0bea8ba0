import pytest

from plugin.sandbox.auth.scopes import Permission, ResourceScope, ScopeSet, grantable


@pytest.mark.parametrize(
    ("text", "letters"),
    [
        ("patient/Observation.rs", "rs"),
        ("patient/Observation.c", "c"),
        ("user/*.cruds", "cruds"),
        ("patient/Observation.read", "rs"),
        ("patient/Observation.write", "cud"),
        ("patient/*.*", "cruds"),
    ],
)
def test_v1_and_v2_spellings_become_permissions(text: str, letters: str) -> None:
    scope = ResourceScope.parse(text)
    assert scope is not None
    assert scope.permissions == frozenset(Permission(letter) for letter in letters)


@pytest.mark.parametrize(
    "text", ["patient/Observation.sr", "patient/Observation.x", "patient/observation.rs", "launch"]
)
def test_malformed_resource_scopes_are_not_resource_scopes(text: str) -> None:
    assert ResourceScope.parse(text) is None


def test_granular_scope_keeps_its_query() -> None:
    scope = ResourceScope.parse("patient/Observation.rs?category=laboratory&status=final")
    assert scope is not None
    assert scope.query == (("category", "laboratory"), ("status", "final"))


def test_grantable_scopes() -> None:
    assert grantable("launch") and grantable("launch/patient") and grantable("openid")
    assert grantable("fhirUser") and grantable("offline_access") and grantable("online_access")
    assert grantable("patient/Observation.rs") and grantable("user/*.read")
    assert not grantable("system/*.read")  # backend services only
    assert not grantable("patient/Observation.dance")
    assert not grantable("admin")


def test_permitting_selects_by_type_and_letter() -> None:
    scopes = ScopeSet.parse("patient/Observation.rs user/*.c openid")
    assert [s.text for s in scopes.permitting(Permission.READ, "Observation")] == [
        "patient/Observation.rs"
    ]
    assert [s.text for s in scopes.permitting(Permission.CREATE, "Condition")] == ["user/*.c"]
    assert scopes.permitting(Permission.UPDATE, "Observation") == []
    assert "openid" in scopes and "fhirUser" not in scopes
