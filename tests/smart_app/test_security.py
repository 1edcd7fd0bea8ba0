import pytest

from plugin.errors import ConfigurationError
from smart_app.errors import CsrfError
from smart_app.security import (
    WINDOW_LIMIT_VALUE,
    check_csrf,
    content_security_policy,
    expired_session_cookie,
    frame_ancestor_origins,
    session_cookie,
    session_cookie_handles,
    window_limit_cookie,
)
from tests.smart_app.conftest import registration

HANDLE = "AbCdEfGhIjKlMnOpQrSt_-"  # a window handle's shape: 22 URL-safe characters


def test_secure_session_cookie_attributes() -> None:
    assert session_cookie("abc", HANDLE, secure=True) == (
        f"__Host-discogram-session-{HANDLE}=abc; Path=/; HttpOnly; Secure; SameSite=None; "
        "Partitioned"
    )


def test_development_cookie_is_lax_without_secure() -> None:
    assert (
        session_cookie("abc", HANDLE, secure=False)
        == f"discogram-session-{HANDLE}=abc; Path=/; HttpOnly; SameSite=Lax"
    )


def test_expired_cookie_clears_the_same_name() -> None:
    assert expired_session_cookie(HANDLE, secure=True).startswith(
        f"__Host-discogram-session-{HANDLE}=; Path=/; HttpOnly; Max-Age=0"
    )
    assert expired_session_cookie(None, secure=False).startswith(
        "discogram-session=; Path=/; HttpOnly; Max-Age=0"
    )


def test_window_limit_cookie_keeps_no_session_and_expires_by_itself() -> None:
    cookie = window_limit_cookie(HANDLE, secure=True)
    assert cookie.startswith(f"__Host-discogram-session-{HANDLE}={WINDOW_LIMIT_VALUE}; ")
    assert "Max-Age=3600" in cookie and "Partitioned" in cookie


def test_session_cookies_are_found_by_window_and_others_ignored() -> None:
    cookies = {
        f"__Host-discogram-session-{HANDLE}": "one",
        "__Host-discogram-session": "old",
        f"discogram-session-{HANDLE}": "not secure",  # the other mode's name
        "__Host-discogram-session-short": "no handle",
        "__Host-discogram-launch-abc": "a launch",
    }
    assert session_cookie_handles(cookies, secure=True) == {HANDLE: "one", None: "old"}
    assert session_cookie_handles(cookies, secure=False) == {HANDLE: "not secure"}


def test_csrf_compare() -> None:
    check_csrf("token-1", "token-1")
    for wrong in (None, "", "token-2", "token-1 "):
        with pytest.raises(CsrfError):
            check_csrf(wrong, "token-1")


def test_content_security_policy_lists_only_the_given_ancestors() -> None:
    csp = content_security_policy(["https://ehr.example.org"])
    assert csp.startswith("default-src 'self'; frame-ancestors 'self' https://ehr.example.org;")
    assert "form-action 'self'" in csp and "object-src 'none'" in csp


def test_frame_ancestors_are_registered_origins(make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(
        registration(frame_origins=["https://Portal.Example.org:8443", "https://ehr.example.org"])
    )
    assert frame_ancestor_origins(settings) == [
        "https://ehr.example.org",
        "https://portal.example.org:8443",
    ]


@pytest.mark.parametrize(
    "bad",
    ["*", "https://*.example.org", "https://x.org/path", "ehr.example.org", "https://x.org/?q"],
)
def test_wildcards_and_non_origins_are_refused(make_settings, bad: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigurationError, match="frame_origins"):
        frame_ancestor_origins(make_settings(registration(frame_origins=[bad])))


def test_every_unusable_frame_origin_is_named_by_its_setting(make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(
        registration(frame_origins=["*", "https://ok.example"]),
        registration(iss="https://b.example/fhir", frame_origins=["https://b.example/path"]),
    )
    with pytest.raises(ConfigurationError) as caught:
        frame_ancestor_origins(settings)
    assert str(caught.value).splitlines() == [
        "ehr.0.frame_origins.0: '*' must be an origin such as https://ehr.example.org",
        "ehr.1.frame_origins.0: 'https://b.example/path' must be an origin such as "
        "https://ehr.example.org",
    ]
