"""The app's endpoints: chooser, `/launch`, `/callback`, the patient page `/app`, its style
sheet, sign-out, and the JWK Set. The only redirects go to a registered EHR's authorization
endpoint (from discovery) or to our own fixed candidacy page in the new window: nothing a
request carries picks a redirect target."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from smart_app.banner import PatientBanner, patient_banner
from smart_app.callback import AuthorizationResponse, complete_launch
from smart_app.dependencies import (
    ServicesDep,
    SessionDep,
    csrf_protect,
    same_patient_form,
    session_fhir_client,
)
from smart_app.errors import LaunchStateError, PatientMismatchError
from smart_app.features import FeatureState, feature_statuses
from smart_app.fhir_client import FhirClient
from smart_app.fhir_errors import FhirError
from smart_app.keys import jwks_document
from smart_app.launch import begin_launch
from smart_app.pages import render
from smart_app.security import expired_launch_cookie, expired_session_cookie, session_cookie
from smart_app.session import LiveSession
from smart_app.style import style_sheet
from smart_app.window_sessions import make_room_for_window
from smart_app.windows import new_window_handle, request_window, window_root
from smart_app.workflow.study_urls import CANDIDACY_PATH

__all__ = ["JWKS_CACHE_CONTROL", "router"]

log = logging.getLogger(__name__)

#: Authorization servers must not cache our keys longer than this (SMART asymmetric auth).
JWKS_CACHE_CONTROL = "public, max-age=3600"

_STATE_WORDS = {
    FeatureState.AVAILABLE.value: "available",
    FeatureState.LIMITED.value: "limited",
    FeatureState.DISABLED.value: "not available",
}

router = APIRouter(dependencies=[Depends(csrf_protect)])


def _chooser(request: Request, services: ServicesDep) -> Response:
    ehrs = [{"name": r.name, "iss": r.iss} for r in services.settings.ehr]
    return render(request, "chooser.html", {"ehrs": ehrs})


@router.get("/", include_in_schema=False)
async def home(request: Request, services: ServicesDep) -> Response:
    return _chooser(request, services)


@router.get("/launch")
async def launch(
    request: Request,
    services: ServicesDep,
    iss: str | None = None,
    launch: str | None = None,
) -> Response:
    if iss is None:
        if launch is not None:
            raise LaunchStateError(
                "The EHR opened the app without saying which EHR it is, so the app cannot sign "
                "in. Please tell the EHR's integration team.",
                "EHR launch has `launch` but no `iss`",
                error_code="invalid_request",
            )
        return _chooser(request, services)
    started = await begin_launch(services, iss=iss, launch=launch)
    response = RedirectResponse(started.authorization_url, status_code=302)
    response.headers.append("set-cookie", started.launch_cookie)
    return response


@router.get("/callback")
async def callback(
    request: Request,
    services: ServicesDep,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
) -> Response:
    session_id = await complete_launch(
        services, AuthorizationResponse(state, code, error, error_description), request.cookies
    )
    live = await services.sessions.get(session_id)
    if live is not None:
        # Signed reports that waited for this user to sign in again are sent now.
        await request.app.state.outbox.resume_for_session(session_id, live.session)
    # Each launch is a window of its own, beside the browser's other windows (other patients).
    await make_room_for_window(request, services)
    handle = new_window_handle()
    # The candidacy page comes first after a launch (it links on to a study in progress).
    response = RedirectResponse(
        f"{request_window(request).app_root}{window_root(handle)}{CANDIDACY_PATH}",
        status_code=303,
    )
    secure = services.settings.cookie_secure
    response.headers.append("set-cookie", session_cookie(session_id, handle, secure=secure))
    if state is not None:  # always set here: complete_launch refuses a missing state
        response.headers.append("set-cookie", expired_launch_cookie(state, secure=secure))
    return response


async def _banner(client: FhirClient, live: LiveSession) -> tuple[PatientBanner | None, str | None]:
    if not live.session.granted.can_read("Patient"):
        return None, "the EHR did not grant permission to read Patient."
    try:
        resource = await client.read("Patient", live.session.patient)
    except FhirError as exc:
        return None, exc.user_message
    banner = patient_banner(resource)
    if banner.id != live.session.patient:
        # The EHR answered with another patient than the token's: never show it.
        raise PatientMismatchError(
            "The EHR returned a different patient than the one this session is for, so the app "
            "shows nothing. Close this window, reopen the app from the patient's chart, and "
            "tell the EHR's integration team.",
            "Patient read returned a resource whose id differs from the token's patient",
        )
    return banner, None


@router.get("/app")
async def patient_page(
    request: Request,
    services: ServicesDep,
    live: SessionDep,
    client: Annotated[FhirClient, Depends(session_fhir_client)],
) -> Response:
    banner, banner_problem = await _banner(client, live)
    # The banner read may have refreshed the token (and the granted scope with it).
    session = live.session
    refreshed = await services.sessions.get(live.id)
    if refreshed is not None:
        session = refreshed.session
    features = feature_statuses(
        session.granted,
        has_refresh_token=session.refresh_token is not None,
        user_known=session.user_name is not None,
    )
    return render(
        request,
        "patient.html",
        {
            "show_banner": session.need_patient_banner,
            "banner": banner,
            "banner_problem": banner_problem,
            "user_name": session.user_name,
            "user_problem": session.user_problem,
            "ehr_name": session.ehr_name,
            "features": features,
            "state_words": _STATE_WORDS,
            "csrf_token": session.csrf_token.get_secret_value(),
            "patient_id": session.patient,
            "has_style": bool(session.style),
        },
    )


@router.get("/app/style.css")
async def session_style(live: SessionDep) -> Response:
    return Response(style_sheet(live.session.style), media_type="text/css")


@router.post("/app/sign-out")
async def sign_out(
    request: Request,
    services: ServicesDep,
    live: Annotated[LiveSession, Depends(same_patient_form)],
) -> Response:
    await services.sessions.end(live.id)
    log.info("session signed out for EHR %s", live.session.ehr_name)
    response = render(request, "signed_out.html", {"ehr_name": live.session.ehr_name})
    # Only this window's cookie: the browser's other windows stay signed in.
    response.headers.append(
        "set-cookie",
        expired_session_cookie(
            request_window(request).session_handle, secure=services.settings.cookie_secure
        ),
    )
    return response


@router.get("/.well-known/jwks.json")
async def jwks(services: ServicesDep) -> Response:
    return JSONResponse(
        jwks_document(services.keys.values()),
        media_type="application/json",
        headers={"Cache-Control": JWKS_CACHE_CONTROL},
    )
