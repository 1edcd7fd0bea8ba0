"""The EHR's discography order, as a CDS Hooks client: ``POST /ehr/orders/new`` shows the
order form for a patient, ``POST /ehr/orders/cds`` sends order-select or order-sign to the
app's CDS service and shows the cards, ``POST /ehr/orders/feedback`` tells the service that the
clinician accepted or overrode one of them. POST forms only (CSRF-checked): the patient never
appears in a URL. The cards shown are kept server-side (`CardMemory`); the feedback form names
them by a random id and positions only."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from plugin.sandbox.cds.cards import card_views, system_action_views
from plugin.sandbox.cds.client import CdsCallError, call_cds_service
from plugin.sandbox.cds.feedback import (
    CardMemory,
    FeedbackError,
    feedback_body,
    returned_cards,
    send_feedback,
)
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
    memory = CardMemory()

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
                feedback_cards=(),
                cards_key=None,
                system_actions=(),
                csrf_token=csrf_token(request),
            )
        response = exchange.response or {}
        kept = returned_cards(response)
        cards_key = None
        if exchange.response is not None and any(card.uuid for card in kept):
            cards_key = memory.remember(
                exchange.service_id,
                order.patient_id,
                order.user_id,
                kept,
                sandbox.now().timestamp(),
            )
        return render(
            "cds_cards.html",
            order=order,
            failure=None,
            exchange=exchange,
            cards=card_views(response, app.launch_url if app else None),
            feedback_cards=kept,
            cards_key=cards_key,
            system_actions=system_action_views(response),
            csrf_token=csrf_token(request),
        )

    def _position(value: object) -> int | None:
        text = value if isinstance(value, str) else ""
        return int(text) if text.isdecimal() and len(text) <= 4 else None

    @router.post("/feedback")
    async def feedback(request: Request) -> Response:
        form = await request.form()
        if not valid_csrf(request, form.get(CSRF_FIELD)):
            return refused("The form was stale; reload the EHR page and try again.", 403)
        client, key = sandbox.config.cds_client, sandbox.cds_key
        if client is None or key is None:
            return refused("This sandbox is not registered with a CDS service.")
        now = sandbox.now()
        kept = memory.lookup(str(form.get("cards", "")), now.timestamp())
        if kept is None:
            return refused("These cards are no longer known; send the order again.")
        index = _position(form.get("card"))
        if index is None or index >= len(kept.cards):
            return refused("Choose one of the cards the service returned.")
        card = kept.cards[index]
        suggestions = [_position(v) for v in form.getlist("suggestion")]
        reason_field = form.get("reason")
        reason = _position(reason_field) if reason_field is not None else None
        comment = form.get("comment", "")
        try:
            if None in suggestions or (reason_field is not None and reason is None):
                raise FeedbackError("Choose among the card's own suggestions and reasons.")
            if not isinstance(comment, str):
                raise FeedbackError("The comment must be text.")
            body = feedback_body(
                card,
                str(form.get("outcome", "")),
                now,
                suggestions=[s for s in suggestions if s is not None],
                reason=reason,
                comment=comment,
            )
        except FeedbackError as problem:
            return refused(str(problem))
        try:
            result = await send_feedback(
                client, key, kept.service_id, body, now, transport=sandbox.cds_transport
            )
        except CdsCallError as failure:
            return render(
                "cds_feedback.html",
                status=502,
                kept=kept,
                card=card,
                item=body["feedback"][0],
                result=None,
                failure=failure,
            )
        return render(
            "cds_feedback.html",
            kept=kept,
            card=card,
            item=body["feedback"][0],
            result=result,
            failure=None,
        )

    return router
