"""What can go wrong in a SMART launch or session, each error carrying the words for the two
people who read the error page: the clinician (what happened, what to do) and the integration
engineer (the protocol detail, with the OAuth / SMART wire code where there is one).

    DiscographyError
    └── SmartError                    – a launch or session failed; mapped to an HTML error page
        ├── UnknownIssuerError        – `iss` is not a registered EHR (400; nothing sent to it)
        ├── DiscoveryError            – smart-configuration missing, broken or insecure (502)
        ├── LaunchStateError          – `state` missing, unknown, used or expired (400)
        ├── AuthorizationDeniedError  – the EHR answered the redirect with `error=` (403)
        ├── TokenEndpointError        – the token request failed (502)
        ├── TokenResponseError        – the token response is unusable (502)
        ├── IdTokenError              – the id_token failed validation (502)
        ├── SessionMissingError       – no (live) session for this window (401)
        ├── WindowUnknownError        – no window handle and several windows open (409)
        ├── WindowLimitError          – the window was signed out for a newer one (401)
        ├── SessionExpiredError       – the access token expired and cannot be refreshed (401)
        ├── PatientMismatchError      – a request names another patient than the token's (409)
        ├── UnidentifiedUserError     – the EHR did not say who signed in: no drafts (403)
        ├── FormTooLargeError         – a post beyond any form of the app's (413)
        └── CsrfError                 – a form post without the session's CSRF token (403)
"""

from __future__ import annotations

from plugin.errors import DiscographyError

__all__ = [
    "AuthorizationDeniedError",
    "CsrfError",
    "DiscoveryError",
    "FormTooLargeError",
    "IdTokenError",
    "LaunchStateError",
    "PatientMismatchError",
    "SessionExpiredError",
    "SessionMissingError",
    "SmartError",
    "TokenEndpointError",
    "TokenResponseError",
    "UnidentifiedUserError",
    "UnknownIssuerError",
    "WindowLimitError",
    "WindowUnknownError",
]


class SmartError(DiscographyError):
    """A SMART launch or session failure. `clinician` is the plain-words explanation with what
    to do next; `detail` is for the integration engineer. Neither may contain a token or a
    patient identifier: both are shown on pages and may be logged."""

    status_code = 500
    title = "The app could not start"
    #: the OAuth 2.0 / SMART wire code, when the failure has one (``invalid_grant`` …)
    error_code: str | None = None

    def __init__(self, clinician: str, detail: str, *, error_code: str | None = None) -> None:
        super().__init__(detail)
        self.clinician = clinician
        self.detail = detail
        if error_code is not None:
            self.error_code = error_code


class UnknownIssuerError(SmartError):
    status_code = 400
    title = "Unknown EHR"


class DiscoveryError(SmartError):
    status_code = 502
    title = "The EHR's SMART configuration could not be used"


class LaunchStateError(SmartError):
    status_code = 400
    title = "The sign-in could not be matched to a launch"
    error_code = "invalid_state"


class AuthorizationDeniedError(SmartError):
    status_code = 403
    title = "The EHR refused the sign-in"


class TokenEndpointError(SmartError):
    status_code = 502
    title = "The EHR did not issue an access token"


class TokenResponseError(SmartError):
    status_code = 502
    title = "The EHR's token response cannot be used"


class IdTokenError(SmartError):
    status_code = 502
    title = "The EHR's identity token was rejected"
    error_code = "invalid_id_token"


class SessionMissingError(SmartError):
    status_code = 401
    title = "No active session"


class SessionExpiredError(SmartError):
    status_code = 401
    title = "The EHR session has ended"


class PatientMismatchError(SmartError):
    status_code = 409
    title = "This page belongs to another patient"


class CsrfError(SmartError):
    status_code = 403
    title = "The form could not be accepted"


class UnidentifiedUserError(SmartError):
    """The session has no `fhirUser`: studies cannot be kept apart per clinician or signed."""

    status_code = 403
    title = "The EHR did not say who you are"

    def __init__(self) -> None:
        super().__init__(
            "The EHR did not tell the app who is signed in, so the app cannot start, open or "
            "sign a study: it keeps each clinician's studies apart, and signs reports, under "
            "the signed-in user's identity. The candidacy check can still be viewed. Ask your "
            'EHR support team to grant the app the "openid fhirUser" scopes, then open the app '
            "again from the EHR.",
            "session has no fhirUser (the `openid fhirUser` scopes were not granted or no "
            "id_token was issued); drafts are refused without a user identity",
        )


class FormTooLargeError(SmartError):
    """A post no page of the app makes: a field of megabytes, or thousands of fields."""

    status_code = 413
    title = "The form was too large"


class WindowUnknownError(SmartError):
    """A page asked for without its window's handle while the browser has several app windows
    open: showing any one of their patients could be the wrong patient, so none is shown."""

    status_code = 409
    title = "This window's patient is not known"

    def __init__(self) -> None:
        super().__init__(
            "The app is open for more than one patient in this browser, and this page does not "
            "say which of them it belongs to, so it shows none. Nothing was saved or changed. "
            "Open the app again from the patient's chart in the EHR.",
            "request without a window handle while the browser holds several live session "
            "cookies; the app does not guess which window it came from",
        )


class WindowLimitError(SmartError):
    """The window's session was ended when the browser opened more app windows than allowed."""

    status_code = 401
    title = "This window was signed out"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"This window was signed out because the app was opened for more than {limit} "
            "patients in this browser, and this window was the oldest. What was saved before "
            "then is kept. Open the app again from the patient's chart in the EHR to continue.",
            f"the window's session was ended to keep at most {limit} app windows per browser",
        )
