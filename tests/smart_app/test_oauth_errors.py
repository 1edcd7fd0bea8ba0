from smart_app.oauth_errors import explain_authorization_error, explain_token_error, safe_error_code


def test_known_codes_are_explained_with_the_ehr_name_and_the_code() -> None:
    text = explain_authorization_error("access_denied", "Epic Prod")
    assert text.startswith("Epic Prod refused the sign-in: access_denied.")
    assert "ask your EHR support team" in text
    assert "invalid_grant" in explain_token_error("invalid_grant", "Epic Prod")


def test_unknown_codes_are_not_echoed_in_the_clinicians_words() -> None:
    assert "weird_code" not in explain_authorization_error("weird_code", "EHR")
    assert "integration team" in explain_token_error("weird_code", "EHR")


def test_only_printable_short_codes_are_shown() -> None:
    assert safe_error_code("invalid_client") == "invalid_client"
    assert safe_error_code('bad"quote') == "(unreadable error code)"
    assert safe_error_code("x" * 65) == "(unreadable error code)"
    assert safe_error_code("line\nbreak") == "(unreadable error code)"
    assert safe_error_code(None) is None
