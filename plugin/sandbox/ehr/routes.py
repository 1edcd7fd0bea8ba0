"""The EHR page at ``/ehr``: the synthetic patients with a Launch button each (one click: the
launch context is created and the app opens in an iframe on a chart page, as an EHR embeds
SMART apps), a standalone-launch link, a data reset, and the `smart_style_url` document."""

from __future__ import annotations

from datetime import date
from importlib import resources
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from plugin.sandbox.ehr.csrf import CSRF_FIELD, csrf_token, remember_csrf_token, valid_csrf
from plugin.sandbox.instance import SandboxEhr
from plugin.sandbox.pages import render
from plugin.sandbox.synthetic_patients import scenarios

__all__ = ["SMART_STYLE", "ehr_router"]

#: The sandbox's look, for apps that honour `smart_style_url` (SMART App Launch §Styling).
SMART_STYLE: dict[str, str] = {
    "color_background": "#f4f6f8",
    "color_error": "#b42318",
    "color_highlight": "#2d5f8a",
    "color_modal_backdrop": "rgba(27, 31, 36, 0.5)",
    "color_success": "#207a3c",
    "color_text": "#1b1f24",
    "dim_border_radius": "4px",
    "dim_font_size": "16px",
    "dim_spacing_size": "16px",
    "font_family_body": "system-ui, sans-serif",
    "font_family_heading": "system-ui, sans-serif",
}

_EXPECTED = {
    "candidate": "Candidate",
    "not-candidate": "Not a candidate",
    "needs-review": "Needs review",
}


def _age(birth_date: str | None, today: date) -> str:
    if not birth_date:
        return "?"
    born = date.fromisoformat(birth_date[:10])
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return str(years)


def _name(resource: dict[str, Any]) -> str:
    name = (resource.get("name") or [{}])[0]
    given = " ".join(name.get("given", []))
    return f"{name.get('family', '')}, {given}".strip(", ") or str(resource.get("id"))


def _with_params(url: str, params: dict[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def ehr_router(sandbox: SandboxEhr) -> APIRouter:
    config = sandbox.config
    secure_cookie = config.base_url.startswith("https://")

    async def ready() -> None:
        await sandbox.ready()

    router = APIRouter(prefix="/ehr", dependencies=[Depends(ready)], include_in_schema=False)

    def refused(message: str, status: int = 400) -> Response:
        return render("auth_error.html", status=status, error="refused", description=message)

    async def patient_rows() -> list[dict[str, str]]:
        today = sandbox.now().date()
        rows: list[dict[str, str]] = []
        for scenario in scenarios():
            stored = await sandbox.store.read("Patient", scenario.patient_id)
            if stored is None:
                continue
            rows.append(
                {
                    "id": stored.id,
                    "name": _name(stored.body),
                    "age": _age(stored.body.get("birthDate"), today),
                    "gender": str(stored.body.get("gender", "")),
                    "title": scenario.title,
                    "summary": scenario.summary,
                    "expected": _EXPECTED[scenario.expected_outcome],
                }
            )
        return rows

    async def practitioners() -> list[dict[str, str]]:
        stored = await sandbox.store.candidates("Practitioner", None)
        return sorted(
            ({"id": s.id, "name": _name(s.body)} for s in stored), key=lambda p: p["name"]
        )

    @router.get("")
    @router.get("/")
    async def home(request: Request) -> Response:
        token = csrf_token(request)
        app = sandbox.app_client()
        standalone = (
            _with_params(app.launch_url, {"iss": config.fhir_base})
            if app is not None and app.launch_url
            else None
        )
        response = render(
            "ehr_home.html",
            app=app,
            patients=await patient_rows(),
            practitioners=await practitioners(),
            default_user=config.default_user,
            standalone_url=standalone,
            fhir_base=config.fhir_base,
            csrf_token=token,
            cds_enabled=config.cds_client is not None,
        )
        remember_csrf_token(response, token, secure_cookie)
        return response

    @router.post("/launch")
    async def launch(request: Request) -> Response:
        form = await request.form()
        if not valid_csrf(request, form.get(CSRF_FIELD)):
            return refused("The form was stale; reload the EHR page and try again.", 403)
        app = sandbox.app_client()
        if app is None:
            return refused("No SMART app with a launch URL is registered with this sandbox.")
        patient_id, user = str(form.get("patient", "")), str(form.get("user", ""))
        if await sandbox.store.read("Patient", patient_id) is None:
            return refused("Choose one of the listed patients.")
        if await sandbox.store.read("Practitioner", user) is None:
            return refused("Choose one of the listed users.")
        # A CDS card's smart link hands its appContext over (CDS Hooks §Link); the app
        # ignores anything longer than a draft-order reference needs.
        app_context = form.get("app_context")
        context = await sandbox.launch(
            app.client_id,
            patient_id,
            user,
            app_context if isinstance(app_context, str) and app_context else None,
        )
        return RedirectResponse(f"/ehr/launches/{context.id}", status_code=303)

    @router.get("/launches/{launch_id}")
    async def chart(launch_id: str) -> Response:
        context = sandbox.records.launch(launch_id)
        app = config.client(context.client_id) if context else None
        if context is None or app is None or not app.launch_url:
            return refused("This launch has expired; launch the app again from the EHR page.", 404)
        patient = await sandbox.store.read("Patient", context.patient)
        user = await sandbox.store.read("Practitioner", context.user)
        body = patient.body if patient else {}
        mrn = next((i.get("value", "") for i in body.get("identifier", [])), "")
        return render(
            "ehr_launch.html",
            frame_src=_origin(app.launch_url),
            patient={
                "name": _name(body),
                "gender": body.get("gender", ""),
                "age": _age(body.get("birthDate"), sandbox.now().date()),
                "birth_date": body.get("birthDate", ""),
                "mrn": mrn,
            },
            user_name=_name(user.body) if user else context.user,
            app_name=app.name,
            launch_url=_with_params(
                app.launch_url, {"iss": config.fhir_base, "launch": context.id}
            ),
        )

    @router.post("/reset")
    async def reset(request: Request) -> Response:
        form = await request.form()
        if not valid_csrf(request, form.get(CSRF_FIELD)):
            return refused("The form was stale; reload the EHR page and try again.", 403)
        await sandbox.reset()
        return RedirectResponse("/ehr", status_code=303)

    @router.get("/smart-style.json")
    async def smart_style() -> Response:
        return JSONResponse(
            SMART_STYLE,
            headers={"Cache-Control": "max-age=3600", "Access-Control-Allow-Origin": "*"},
        )

    @router.get("/static/sandbox.css")
    async def stylesheet() -> Response:
        css = resources.files("plugin.sandbox").joinpath("static", "sandbox.css").read_text("utf-8")
        return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=300"})

    return router
