"""Starting a SMART launch (App Launch §Launch App, §Obtain authorization code).

EHR launch: the EHR opens `/launch?iss=…&launch=…`. Standalone launch: `/launch?iss=…` (from
the chooser of registered EHRs), asking `launch/patient`. Either way: `iss` must be a
registered EHR before anything is sent anywhere; then discovery, a launch record keyed on a
fresh `state` and bound to this browser by a launch cookie (App Launch: `state` SHALL be tied
to the user's session), and the redirect to the EHR's authorization endpoint with PKCE S256,
`aud` = the FHIR base and, for an EHR launch, the `launch` handle echoed.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from smart_app.errors import DiscoveryError, LaunchStateError, UnknownIssuerError
from smart_app.scopes import LaunchKind, requested_scopes
from smart_app.security import launch_cookie
from smart_app.services import SmartServices
from smart_app.settings import EhrRegistration
from smart_app.store import LAUNCH_TTL_SECONDS, LaunchRecord

__all__ = [
    "MAX_LAUNCH_LENGTH",
    "StartedLaunch",
    "begin_launch",
    "new_code_verifier",
    "new_state",
    "registered_ehr",
]

log = logging.getLogger(__name__)

MAX_LAUNCH_LENGTH = 4096


def new_state() -> str:
    return secrets.token_urlsafe(32)  # 256 random bits (the spec asks at least 122)


def new_code_verifier() -> str:
    return secrets.token_urlsafe(64)  # 86 characters of the RFC 7636 alphabet (43–128 allowed)


@dataclass(frozen=True, slots=True)
class StartedLaunch:
    """Where to send the browser, and the cookie it must carry back to /callback."""

    authorization_url: str
    launch_cookie: str  # a Set-Cookie value


def registered_ehr(services: SmartServices, iss: str) -> EhrRegistration:
    registration = services.registration(iss)
    if registration is None:
        raise UnknownIssuerError(
            "The app was opened from an EHR it is not set up to work with, so it did not "
            "contact it. If you expected the app to work here, ask your EHR support team to "
            "have this EHR registered with the discography app.",
            # repr() so a hostile value cannot forge log lines; autoescaped on the page.
            f"iss {iss[:200]!r} is not a registered EHR FHIR base; no request was sent to it",
        )
    return registration


async def begin_launch(services: SmartServices, *, iss: str, launch: str | None) -> StartedLaunch:
    """The authorization URL to redirect the browser to, with the browser's launch cookie."""
    registration = registered_ehr(services, iss)
    if launch is not None and not (0 < len(launch) <= MAX_LAUNCH_LENGTH):
        raise LaunchStateError(
            "The EHR opened the app with an incomplete launch. Open the app from the EHR again.",
            f"launch parameter empty or longer than {MAX_LAUNCH_LENGTH} characters",
            error_code="invalid_request",
        )
    kind = LaunchKind.EHR if launch is not None else LaunchKind.STANDALONE
    configuration = await services.discovery.configuration(registration)
    if configuration.authorization_endpoint is None:
        raise DiscoveryError(
            f"{registration.name} does not offer user sign-in to apps. Please tell the EHR's "
            "integration team.",
            "smart-configuration has no authorization_endpoint",
        )
    scopes = requested_scopes(configuration.capabilities, kind, registration.scopes)
    state, verifier, binding = new_state(), new_code_verifier(), secrets.token_urlsafe(32)
    await services.launch_records.save(
        LaunchRecord(
            state=state,
            iss=registration.iss,
            kind=kind,
            launch=launch,
            code_verifier=verifier,
            scopes=tuple(scopes),
            created_at=services.clock(),
            browser_binding=binding,
        )
    )
    extra = {"launch": launch} if launch is not None else {}
    async with services.oauth_client(registration) as client:
        url, _ = client.create_authorization_url(
            configuration.authorization_endpoint,
            state=state,
            code_verifier=verifier,
            scope=" ".join(scopes),
            # In an EHR launch `aud` is the `iss` exactly as the EHR sent it.
            aud=iss if kind is LaunchKind.EHR else registration.iss,
            **extra,
        )
    log.info("%s launch started for EHR %s", kind.value, registration.name)
    cookie = launch_cookie(
        state,
        binding,
        secure=services.settings.cookie_secure,
        max_age=int(LAUNCH_TTL_SECONDS),
    )
    return StartedLaunch(authorization_url=str(url), launch_cookie=cookie)
