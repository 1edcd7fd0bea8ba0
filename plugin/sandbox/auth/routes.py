"""HTTP routes of the sandbox authorization server: discovery, the authorization endpoint with
its patient picker and consent screen, the token endpoint, and the id_token JWKS."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749.errors import OAuth2Error
from fastapi import APIRouter, Depends, Request
from joserfc import jws
from joserfc.errors import JoseError
from starlette.responses import JSONResponse, Response

from plugin.sandbox.auth.client_keys import ClientKeyError
from plugin.sandbox.auth.discovery import openid_configuration, smart_configuration
from plugin.sandbox.auth.records import AuthorizationSubject, PendingAuthorization
from plugin.sandbox.auth.server import IncomingRequest
from plugin.sandbox.behaviour import Interaction, SandboxRequest
from plugin.sandbox.faults import serve_with_faults
from plugin.sandbox.instance import SandboxEhr
from plugin.sandbox.pages import render
from plugin.sandbox.synthetic_patients import scenarios

__all__ = ["auth_router"]

_PUBLIC_JSON = {"Cache-Control": "max-age=300", "Access-Control-Allow-Origin": "*"}
_PENDING_SECONDS = 600


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _patient_name(resource: dict[str, Any]) -> str:
    names = resource.get("name") or [{}]
    name = names[0]
    given = " ".join(name.get("given", []))
    return f"{name.get('family', '')}, {given}".strip(", ") or str(resource.get("id"))


def auth_router(sandbox: SandboxEhr) -> APIRouter:
    config = sandbox.config
    server = sandbox.auth_server

    async def ready() -> None:
        await sandbox.ready()

    router = APIRouter(dependencies=[Depends(ready)], include_in_schema=False)

    # -- discovery ------------------------------------------------------------------------

    @router.get("/fhir/.well-known/smart-configuration")
    async def smart_config() -> Response:
        return JSONResponse(smart_configuration(config), headers=_PUBLIC_JSON)

    @router.get("/auth/.well-known/openid-configuration")
    async def openid_config() -> Response:
        return JSONResponse(openid_configuration(config), headers=_PUBLIC_JSON)

    @router.get("/auth/jwks")
    async def jwks() -> Response:
        return JSONResponse(sandbox.signer.jwks(), headers=_PUBLIC_JSON)

    # -- authorization endpoint ---------------------------------------------------------

    def incoming(request: Request, params: list[tuple[str, str]]) -> IncomingRequest:
        return IncomingRequest(
            method=request.method,
            uri=f"{config.base_url}{request.url.path}",
            headers=request.headers,
            params=params,
        )

    def error_page(error: OAuth2Error) -> Response:
        return render(
            "auth_error.html",
            status=400,
            error=error.error,
            description=error.get_error_description() or "",
        )

    def refuse(request: IncomingRequest, error: OAuth2Error) -> Response:
        # Redirect only to a URI authlib validated as registered for the client; anything
        # else is shown on the sandbox's own page (never an open redirector).
        if error.redirect_uri:
            response: Response = server.handle_error_response(request, error)
            return response
        return error_page(error)

    def redirect_origin(pending: PendingAuthorization) -> str:
        return _origin(pending.params.get("redirect_uri", config.base_url))

    async def patient_rows() -> list[dict[str, str]]:
        titles = {s.patient_id: s.title for s in scenarios()}
        patients = await sandbox.store.candidates("Patient", None)
        rows = [
            {"id": p.id, "name": _patient_name(p.body), "title": titles.get(p.id, "")}
            for p in patients
        ]
        order = list(titles)
        return sorted(
            rows, key=lambda r: (order.index(r["id"]) if r["id"] in order else 99, r["id"])
        )

    async def consent_page(pending: PendingAuthorization) -> Response:
        client = config.client(pending.client_id)
        patient_name = None
        if pending.patient is not None:
            stored = await sandbox.store.read("Patient", pending.patient)
            patient_name = _patient_name(stored.body) if stored else pending.patient
        requested = pending.params.get("scope", "").split()
        return render(
            "consent.html",
            redirect_origin=redirect_origin(pending),
            client_name=client.name if client else pending.client_id,
            patient_name=patient_name,
            scopes=pending.scopes,
            withheld=[s for s in requested if s not in pending.scopes],
            request_id=pending.id,
        )

    def finish(pending: PendingAuthorization, allow: bool) -> Response:
        """Issue the code (or access_denied) by authlib, re-validating the request first."""
        request = IncomingRequest("GET", config.authorize_url, {}, list(pending.params.items()))
        try:
            grant = server.get_consent_grant(request=request)
        except OAuth2Error as error:
            return refuse(request, error)
        subject = (
            AuthorizationSubject(
                pending.user,
                pending.patient,
                pending.encounter,
                pending.params.get("nonce"),
                pending.app_context,
            )
            if allow
            else None
        )
        response: Response = server.create_authorization_response(
            request=grant.request, grant_user=subject, grant=grant
        )
        return response

    async def proceed(pending: PendingAuthorization) -> Response:
        if pending.needs_patient:
            sandbox.records.add_pending(pending)
            client = config.client(pending.client_id)
            return render(
                "patient_picker.html",
                redirect_origin=redirect_origin(pending),  # auto consent redirects from here
                client_name=client.name if client else pending.client_id,
                patients=await patient_rows(),
                request_id=pending.id,
            )
        if config.auto_consent:
            return finish(pending, allow=True)
        sandbox.records.add_pending(pending)
        return await consent_page(pending)

    @router.api_route("/auth/authorize", methods=["GET", "POST"])
    async def authorize(request: Request) -> Response:
        params = list(request.query_params.multi_items())
        if request.method == "POST":
            form = await request.form()
            params += [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        oauth_request = incoming(request, params)
        try:
            grant = server.get_consent_grant(request=oauth_request)
        except OAuth2Error as error:
            return refuse(oauth_request, error)
        data = grant.request.payload.data
        scopes = str(grant.request.scope).split()
        launch = sandbox.records.launch(str(data["launch"])) if data.get("launch") else None
        patient: str | None
        if launch is not None:
            user, patient, encounter = launch.user, launch.patient, launch.encounter
        else:
            user, patient, encounter = config.default_user, config.standalone_patient, None
        pending = PendingAuthorization(
            id=sandbox.records.new_pending_id(),
            client_id=grant.request.client.get_client_id(),
            params=dict(data),
            scopes=scopes,
            user=user,
            patient=patient,
            encounter=encounter,
            needs_patient=patient is None and "launch/patient" in scopes,
            expires_at=sandbox.now() + timedelta(seconds=_PENDING_SECONDS),
            app_context=launch.app_context if launch is not None else None,
        )
        return await proceed(pending)

    @router.post("/auth/authorize/patient")
    async def choose_patient(request: Request) -> Response:
        form = await request.form()
        pending = sandbox.records.pending_request(str(form.get("request_id", "")))
        if pending is None or not pending.needs_patient:
            return render(
                "auth_error.html", status=400, error="invalid_request",
                description="This authorization request has expired or was already answered.",
            )  # fmt: skip
        patient_id = str(form.get("patient", ""))
        if await sandbox.store.read("Patient", patient_id) is None:
            return render(
                "auth_error.html", status=400, error="invalid_request",
                description="Choose one of the listed patients.",
            )  # fmt: skip
        sandbox.records.finish_pending(pending.id)
        pending.patient = patient_id
        pending.needs_patient = False
        pending.id = sandbox.records.new_pending_id()
        return await proceed(pending)

    @router.post("/auth/authorize/consent")
    async def consent(request: Request) -> Response:
        form = await request.form()
        pending = sandbox.records.finish_pending(str(form.get("request_id", "")))
        if pending is None or pending.needs_patient:
            return render(
                "auth_error.html", status=400, error="invalid_request",
                description="This authorization request has expired or was already answered.",
            )  # fmt: skip
        return finish(pending, allow=form.get("decision") == "allow")

    # -- token endpoint -------------------------------------------------------------------

    async def prepare_client_keys(assertion: str) -> Response | None:
        """Fetch the asserting client's JWKS before authlib (which is synchronous) needs it."""
        try:
            compact = jws.extract_compact(assertion.encode())
            claims = json.loads(compact.payload)
            kid = compact.headers().get("kid")
        except (JoseError, ValueError):
            return None  # authlib reports the malformed assertion
        client = config.client(str(claims.get("sub"))) if isinstance(claims, dict) else None
        if client is None:
            return None
        try:
            await sandbox.client_keys.prepare(client, str(kid) if kid else None)
        except ClientKeyError as exc:
            return JSONResponse(
                {"error": "invalid_client", "error_description": str(exc)},
                status_code=401,
                headers={"Cache-Control": "no-store"},
            )
        return None

    @router.post("/auth/token")
    async def token(request: Request) -> Response:
        form = await request.form()
        params = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        fields = dict(params)

        async def work() -> Response:
            assertion = fields.get("client_assertion")
            if assertion:
                refused = await prepare_client_keys(assertion)
                if refused is not None:
                    return refused
            oauth_request = IncomingRequest("POST", config.token_url, request.headers, params)
            response: Response = server.create_token_response(oauth_request)
            return response

        info = SandboxRequest(
            interaction=Interaction.TOKEN,
            method="POST",
            path="auth/token",
            body={"grant_type": fields.get("grant_type")},  # never the credentials
        )
        return await serve_with_faults(sandbox.behaviour.fault, info, work)

    return router
