"""OAuth 2.0 error codes (RFC 6749 §4.1.2.1 and §5.2, OpenID Connect Core §3.1.2.6) in plain
words for the clinician who meets them, with what to do next."""

from __future__ import annotations

__all__ = ["explain_authorization_error", "explain_token_error", "safe_error_code"]

_ASK_INTEGRATION = (
    "This needs the EHR's integration team; please pass them the technical detail below."
)

_AUTHORIZATION: dict[str, str] = {
    "access_denied": "The sign-in was declined, so the app cannot open this patient's chart. "
    "If that was not intended, open the app from the EHR again and allow access; if your "
    "account is not allowed to use the app, ask your EHR support team to grant it.",
    "invalid_request": "The EHR found the app's sign-in request incomplete. " + _ASK_INTEGRATION,
    "unauthorized_client": "The EHR does not allow this app to sign in this way. "
    + _ASK_INTEGRATION,
    "unsupported_response_type": "The EHR does not support the sign-in method the app uses. "
    + _ASK_INTEGRATION,
    "invalid_scope": "The EHR refused the permissions the app asked for. " + _ASK_INTEGRATION,
    "server_error": "The EHR's sign-in service had an internal error. Try again in a few "
    "minutes; if it keeps happening, tell your EHR support team.",
    "temporarily_unavailable": "The EHR's sign-in service is busy or down for maintenance. "
    "Try again in a few minutes.",
    "login_required": "You need to be signed in to the EHR first. Sign in, then open the app "
    "from the patient's chart again.",
    "consent_required": "The EHR needs your consent before the app can open the chart. Open "
    "the app from the EHR again and allow access.",
    "interaction_required": "The EHR needs you to confirm something before the app can open. "
    "Open the app from the EHR again.",
}

_TOKEN: dict[str, str] = {
    "invalid_grant": "The EHR did not accept the app's sign-in code (it may have expired, "
    "been used already, or not match this app's request). Open the app from the EHR again; "
    "if it keeps happening, tell your EHR support team.",
    "invalid_client": "The EHR does not recognise this app's credentials (its registration, "
    "secret or keys do not match). " + _ASK_INTEGRATION,
    "unauthorized_client": "The EHR does not allow this app to obtain access this way. "
    + _ASK_INTEGRATION,
    "unsupported_grant_type": "The EHR does not support the sign-in method the app uses. "
    + _ASK_INTEGRATION,
    "invalid_scope": "The EHR refused the permissions the app asked for. " + _ASK_INTEGRATION,
    "invalid_request": "The EHR found the app's token request incomplete. " + _ASK_INTEGRATION,
}


def safe_error_code(code: str | None) -> str | None:
    """An error code fit to show and log: RFC 6749 limits it to printable ASCII without
    quotes or backslash; anything else (or a very long value) is not echoed."""
    if code is None:
        return None
    if len(code) > 64 or not all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in code):
        return "(unreadable error code)"
    return code


def explain_authorization_error(code: str, ehr_name: str) -> str:
    text = _AUTHORIZATION.get(code)
    if text is None:
        return (
            f"{ehr_name} stopped the sign-in with an error the app does not know. "
            + _ASK_INTEGRATION
        )
    return f"{ehr_name} refused the sign-in: {code}. {text}"


def explain_token_error(code: str, ehr_name: str) -> str:
    text = _TOKEN.get(code)
    if text is None:
        return f"{ehr_name} did not issue access for an unknown reason. " + _ASK_INTEGRATION
    return f"{ehr_name} did not issue access: {code}. {text}"
