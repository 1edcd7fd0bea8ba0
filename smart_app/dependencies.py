"""FastAPI dependencies of the app's pages, for this package's routes and for other page
routers the product adds: the services, the current session, CSRF and same-patient checks.

A page router should be created with ``APIRouter(dependencies=[Depends(csrf_protect)])`` so
every state-changing request it serves carries the session's CSRF token, and a form that acts
on a patient should depend on `same_patient_form` so it cannot act on another patient than
the one the session's token is for.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from smart_app.errors import CsrfError, PatientMismatchError, SessionMissingError
from smart_app.fhir_client import FhirClient
from smart_app.posted_forms import posted_form
from smart_app.security import CSRF_FIELD, CSRF_HEADER, check_csrf
from smart_app.services import SmartServices
from smart_app.session import LiveSession
from smart_app.window_sessions import window_session

__all__ = [
    "PATIENT_FIELD",
    "ServicesDep",
    "SessionDep",
    "csrf_protect",
    "current_session",
    "get_services",
    "same_patient_form",
    "session_fhir_client",
]

PATIENT_FIELD = "patient"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_services(request: Request) -> SmartServices:
    services: SmartServices = request.app.state.smart
    return services


ServicesDep = Annotated[SmartServices, Depends(get_services)]


async def _session_or_none(request: Request, services: SmartServices) -> LiveSession | None:
    cached: LiveSession | None = getattr(request.state, "smart_session", None)
    if cached is not None:
        return cached
    live = await window_session(request, services)
    if live is not None:
        request.state.smart_session = live
    return live


async def current_session(request: Request, services: ServicesDep) -> LiveSession:
    live = await _session_or_none(request, services)
    if live is None:
        raise SessionMissingError(
            "This window is not signed in to an EHR (the session ended, expired, or the browser "
            "blocked the app's cookie). Open the app from the patient's chart in the EHR.",
            "no live session for this request's cookie",
        )
    return live


SessionDep = Annotated[LiveSession, Depends(current_session)]


async def csrf_protect(request: Request, services: ServicesDep) -> None:
    """Every state-changing request must carry the session's CSRF token (403 otherwise)."""
    if request.method in _SAFE_METHODS:
        return
    live = await _session_or_none(request, services)
    if live is None:
        raise CsrfError(
            "The form was not accepted because this window is not signed in. Open the app "
            "from the EHR again.",
            "state-changing request without a session",
        )
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await posted_form(request)).get(CSRF_FIELD)
            submitted = value if isinstance(value, str) else None
    check_csrf(submitted, live.session.csrf_token.get_secret_value())


async def same_patient_form(request: Request, live: SessionDep) -> LiveSession:
    """The session, if the submitted form's `patient` is the session's token patient."""
    value = (await posted_form(request)).get(PATIENT_FIELD)
    named = value if isinstance(value, str) else ""
    if not hmac.compare_digest(named.encode(), live.session.patient.encode()):
        raise PatientMismatchError(
            "This page was showing a different patient than the one the app is now signed in "
            "for (the app was probably opened for another patient in this browser). Nothing "
            "was done. Close this window and continue from the current patient's chart.",
            "the form's patient differs from the session token's patient",
        )
    return live


def session_fhir_client(live: SessionDep, services: ServicesDep) -> FhirClient:
    """The FHIR client of the current session (its EHR, its refreshing token)."""
    return services.fhir_client(live.id, live.session.iss)
