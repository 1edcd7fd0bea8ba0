"""The redirect back from the EHR (`/callback`): validate `state`, exchange the code, check the
id_token, name the user, and start the app session (App Launch §Obtain access token).

The session is created from the launch record found by `state`, and only for the browser that
started the launch: its launch cookie must match the record (App Launch: `state` tied to the
user's session), so a callback URL carried to another browser (login CSRF, session swap) starts
nothing. The record is single use and expires after ten minutes.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import SecretStr

from smart_app.banner import fhir_user_target, user_name
from smart_app.errors import (
    AuthorizationDeniedError,
    LaunchStateError,
    TokenResponseError,
    UnknownIssuerError,
)
from smart_app.fhir_client import FhirClient, StaticTokenSource
from smart_app.fhir_errors import FhirError
from smart_app.oauth_errors import explain_authorization_error, safe_error_code
from smart_app.security import launch_cookie_name
from smart_app.services import SmartServices
from smart_app.session import SmartSession
from smart_app.settings import EhrRegistration
from smart_app.store import LaunchRecord, LaunchRefusal
from smart_app.style import fetch_style
from smart_app.tokens import TokenResponse, exchange_code, id_token_issuer

__all__ = ["AuthorizationResponse", "complete_launch"]

log = logging.getLogger(__name__)

_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")

_REFUSALS = {
    LaunchRefusal.UNKNOWN: (
        "This sign-in does not match a launch the app started. Open the app from the EHR again.",
        "state does not match any launch record",
    ),
    LaunchRefusal.USED: (
        "This sign-in was already used — perhaps the page was reloaded or opened twice. Open "
        "the app from the EHR again.",
        "state was already used (replay refused)",
    ),
    LaunchRefusal.EXPIRED: (
        "The sign-in took longer than ten minutes, so it was cancelled for safety. Open the "
        "app from the EHR again.",
        "launch record expired (older than 10 minutes)",
    ),
    LaunchRefusal.OTHER_BROWSER: (
        "This sign-in was started in another browser window or has expired — open the app "
        "again from the EHR.",
        "the browser's launch cookie for this state is missing or does not match (state is "
        "bound to the browser that started the launch)",
    ),
}


@dataclass(frozen=True, slots=True)
class AuthorizationResponse:
    """The query of the redirect: `code` + `state`, or `error` (+ description) + `state`."""

    state: str | None
    code: str | None
    error: str | None
    error_description: str | None


async def _take_launch(
    services: SmartServices, state: str | None, cookies: Mapping[str, str]
) -> LaunchRecord:
    if not state:
        raise LaunchStateError(
            "The EHR sent the app back without the sign-in's security check, so the app "
            "stopped. Open the app from the EHR again.",
            "state missing from the redirect",
        )
    binding = cookies.get(launch_cookie_name(state, secure=services.settings.cookie_secure))
    taken = await services.launch_records.take(state, services.clock(), binding or None)
    if isinstance(taken, LaunchRefusal):
        clinician, detail = _REFUSALS[taken]
        raise LaunchStateError(clinician, detail)
    return taken


def _registration(services: SmartServices, record: LaunchRecord) -> EhrRegistration:
    registration = services.registration(record.iss)
    if registration is None:
        raise UnknownIssuerError(
            "The EHR this sign-in came from is no longer set up for the app. Ask your EHR "
            "support team.",
            "launch record's iss is no longer registered",
        )
    return registration


def _check_context(token: TokenResponse, registration: EhrRegistration) -> str:
    patient = token.patient
    if patient is None or not _FHIR_ID.fullmatch(patient):
        raise TokenResponseError(
            f"{registration.name} did not say which patient to open, so the app cannot show a "
            "chart. Open the app from the patient's chart in the EHR (or choose a patient when "
            "asked).",
            "token response has no valid `patient` launch context",
        )
    if token.encounter is not None and not _FHIR_ID.fullmatch(token.encounter):
        raise TokenResponseError(
            f"{registration.name} sent a visit reference the app cannot read. Please tell the "
            "EHR's integration team.",
            "token response `encounter` is not a FHIR id",
        )
    return patient


async def _user(
    services: SmartServices, registration: EhrRegistration, fhir_user: str | None, token: str
) -> tuple[str | None, str | None]:
    """(user name, problem) — reading the user never stops the launch."""
    if fhir_user is None:
        return None, "the EHR did not say who is signed in (no fhirUser)"
    target = fhir_user_target(fhir_user, registration.iss)
    if target is None:
        return None, "the signed-in user's record is on another server; it was not read"
    client = FhirClient(
        registration.iss,
        StaticTokenSource(token),
        services.http,
        capability_cache=services.capabilities,
    )
    try:
        resource = await client.read(*target)
    except FhirError as exc:
        log.info("fhirUser not read: %s", exc)
        return None, "the EHR did not let the app read the signed-in user's record"
    name = user_name(resource)
    return name, None if name else "the signed-in user's record has no name"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def complete_launch(
    services: SmartServices, response: AuthorizationResponse, cookies: Mapping[str, str]
) -> str:
    """Returns the new session's id (for the cookie). `cookies` are the request's: the launch
    cookie for `state` must be among them."""
    record = await _take_launch(services, response.state, cookies)
    registration = _registration(services, record)
    if response.error is not None:
        code = safe_error_code(response.error) or "(no error code)"
        log.info("EHR %s refused the authorization: %s", registration.name, code)
        raise AuthorizationDeniedError(
            explain_authorization_error(code, registration.name),
            f"authorization endpoint answered error={code}",
            error_code=code,
        )
    if not response.code:
        raise LaunchStateError(
            f"{registration.name} sent the app back without a sign-in code. Open the app from "
            "the EHR again.",
            "redirect has neither code nor error",
            error_code="invalid_request",
        )
    configuration = await services.discovery.configuration(registration)
    async with services.oauth_client(registration) as client:
        token = await exchange_code(
            client,
            configuration.token_endpoint,
            code=response.code,
            code_verifier=record.code_verifier,
            ehr_name=registration.name,
        )
    patient = _check_context(token, registration)
    access_token = token.access_token.get_secret_value()

    fhir_user: str | None = None
    if token.id_token is not None:
        id_token = token.id_token.get_secret_value()
        claims = await services.id_tokens.verify(
            id_token,
            claimed_issuer=id_token_issuer(id_token),
            registration=registration,
            configuration=configuration,
        )
        fhir_user = claims.fhir_user
    name, problem = await _user(services, registration, fhir_user, access_token)

    style: dict[str, str] = {}
    if token.smart_style_url:
        trusted = {_origin(registration.iss), _origin(configuration.token_endpoint)}
        if configuration.authorization_endpoint:
            trusted.add(_origin(configuration.authorization_endpoint))
        style = await fetch_style(
            services.http,
            token.smart_style_url,
            trusted_origins=trusted,
            allow_plain_http=services.allow_plain_http,
        )

    now = services.clock()
    session = SmartSession(
        iss=registration.iss,
        ehr_name=registration.name,
        launch_kind=record.kind,
        patient=patient,
        encounter=token.encounter,
        fhir_context=[item.model_dump(exclude_none=True) for item in token.fhir_context],
        need_patient_banner=token.need_patient_banner is not False,
        style=style,
        intent=token.intent,
        tenant=token.tenant,
        app_context=token.app_context,
        # RFC 6749 §5.1: an omitted scope means the scope requested.
        granted_scope=token.scope if token.scope is not None else " ".join(record.scopes),
        access_token=token.access_token,
        refresh_token=token.refresh_token,
        access_expires_at=now + token.expires_in if token.expires_in is not None else None,
        fhir_user=fhir_user,
        user_name=name,
        user_problem=problem,
        csrf_token=SecretStr(secrets.token_urlsafe(32)),
    )
    session_id = await services.sessions.start(session)
    log.info("%s launch completed for EHR %s", record.kind.value, registration.name)
    return session_id
