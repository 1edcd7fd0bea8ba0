"""The EHR's discography order, as a CDS Hooks client: ``POST /ehr/orders/new`` shows the
order form for a patient, ``POST /ehr/orders/cds`` sends order-select or order-sign to the
app's CDS service and shows the cards. POST forms only (CSRF-checked): the patient never
appears in a URL."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from plugin.sandbox.cds.cards import card_views, system_action_views
from plugin.sandbox.cds.client import CdsCallError, call_cds_service
from plugin.sandbox.cds.request import DISCOGRAPHY_CODES, DiscographyOrder, Hook, levels_from_form
from plugin.sandbox.ehr.csrf import CSRF_FIELD, csrf_token, valid_csrf
from plugin.sandbox.instance import SandboxEhr
from plugin.sandbox.pages import render
from plugin.study.levels import DISC_LEVELS

__all__ = ["cds_order_router"]

_DEFAULT_LEVELS = ("L4-L5", "L5-S1")


def cds_order_router(sandbox: SandboxEhr) -> APIRouter:
    async def ready() -> None:
        await sandbox.ready()

    router = APIRouter(prefix="/ehr/orders", dependencies=[Depends(ready)], include_in_schema=False)

    def refused(message: str, status: int = 400) -> Response:
        return render("auth_error.html", status=status, error="refused", description=message)

    async def checked(request: Request) -> tuple[FormData, Response | None]:
        """The form, or the page refusing it (stale CSRF token, unknown patient or user)."""
        form = await request.form()
        if not valid_csrf(request, form.get(CSRF_FIELD)):
            return form, refused("The form was stale; reload the EHR page and try again.", 403)
        if sandbox.config.cds_client is None:
            return form, refused("This sandbox is not registered with a CDS service.")
        if await sandbox.store.read("Patient", str(form.get("patient", ""))) is None:
            return form, refused("Choose one of the listed patients.")
        if await sandbox.store.read("Practitioner", str(form.get("user", ""))) is None:
            return form, refused("Choose one of the listed users.")
        return form, None

    @router.post("/new")
    async def order_form(request: Request) -> Response:
        form, refusal = await checked(request)
        if refusal is not None:
            return refusal
        return render(
            "cds_order.html",
            patient=str(form["patient"]),
            user=str(form["user"]),
            codes=DISCOGRAPHY_CODES,
            levels=DISC_LEVELS,
            chosen_levels=_DEFAULT_LEVELS,
            hooks=[hook.value for hook in Hook],
            csrf_token=csrf_token(request),
            problems=[],
        )

    @router.post("/cds")
    async def send_order(request: Request) -> Response:
        form, refusal = await checked(request)
        if refusal is not None:
            return refusal
        hook_name = str(form.get("hook", ""))
        order = DiscographyOrder(
            patient_id=str(form["patient"]),
            user_id=str(form["user"]),
            cpt=str(form.get("cpt", "")),
            levels=levels_from_form([str(v) for v in form.getlist("level")]),
            hook=Hook(hook_name) if hook_name in set(Hook) else Hook.ORDER_SIGN,
            send_prefetch=form.get("prefetch") == "yes",
        )
        problems = order.problems()
        if problems:
            return render(
                "cds_order.html",
                status=400,
                patient=order.patient_id,
                user=order.user_id,
                codes=DISCOGRAPHY_CODES,
                levels=DISC_LEVELS,
                chosen_levels=order.levels,
                hooks=[hook.value for hook in Hook],
                csrf_token=csrf_token(request),
                problems=problems,
            )
        app = sandbox.app_client()
        try:
            exchange = await call_cds_service(sandbox, order, transport=sandbox.cds_transport)
        except CdsCallError as failure:
            return render(
                "cds_cards.html",
                status=502,
                order=order,
                failure=failure,
                exchange=None,
                cards=(),
                system_actions=(),
                csrf_token=csrf_token(request),
            )
        response = exchange.response or {}
        return render(
            "cds_cards.html",
            order=order,
            failure=None,
            exchange=exchange,
            cards=card_views(response, app.launch_url if app else None),
            system_actions=system_action_views(response),
            csrf_token=csrf_token(request),
        )

    return router
