"""One CDS Hooks call of a candidacy service, from the decoded body to the response object:
check the call, find the discography drafts (none → ``{"cards": []}`` without reading the
chart), gather the chart (prefetch, else fhirServer, else 412), assess each order with the
candidacy engine and build its card and systemAction.

HTTP, authentication and error statuses are the router's; this module raises the errors of
`plugin.cds_hooks.errors`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx

from plugin.candidacy.chart import Chart, ChartInvalidError, chart_from_resources
from plugin.candidacy.engine import assess_candidacy
from plugin.candidacy.order import OrderInvalidError, order_from_service_request
from plugin.candidacy.policy import Policy
from plugin.cds_hooks.cards import CardSetting, candidacy_card, order_problem_card
from plugin.cds_hooks.chart_gathering import gather_chart
from plugin.cds_hooks.chart_queries import ChartQuery, chart_queries
from plugin.cds_hooks.discovery import CdsService
from plugin.cds_hooks.draft_orders import discography_drafts
from plugin.cds_hooks.errors import CdsRequestInvalidError
from plugin.cds_hooks.extension import attestations_on
from plugin.cds_hooks.hook_request import HookRequest, parse_hook_request
from plugin.cds_hooks.system_actions import candidacy_update
from plugin.errors import Problem
from smart_app.clock import Clock, system_clock
from smart_app.fhir_client import RetryPolicy

__all__ = ["CandidacyService", "today_utc"]


def today_utc(clock: Clock) -> date:
    return datetime.fromtimestamp(clock(), UTC).date()


@dataclass(slots=True)
class CandidacyService:
    """Answers order-select and order-sign calls for one policy."""

    policy: Policy
    launch_url: str
    http: httpx.AsyncClient
    clock: Clock = system_clock
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy.for_cds)
    allow_plain_http_loopback: bool = False
    new_uuid: Callable[[], str] | None = None
    queries: tuple[ChartQuery, ...] = ()

    def __post_init__(self) -> None:
        if not self.queries:
            self.queries = chart_queries(self.policy)

    async def answer(self, service: CdsService, body: Any) -> dict[str, Any]:
        call = parse_hook_request(
            body, service.hook, allow_plain_http_loopback=self.allow_plain_http_loopback
        )
        drafts = discography_drafts(call.context)
        if not drafts:
            return {"cards": []}
        setting = CardSetting(call=call, service_id=service.id, launch_url=self.launch_url)
        uuid_kw = {} if self.new_uuid is None else {"new_uuid": self.new_uuid}
        orders = []
        cards: list[dict[str, Any]] = []
        for draft in drafts:
            try:
                orders.append((draft, order_from_service_request(draft)))
            except OrderInvalidError as error:
                cards.append(order_problem_card(error.problems, draft, setting, **uuid_kw))
        actions: list[dict[str, Any]] = []
        if orders:
            chart = await self._chart(call)
            today = today_utc(self.clock)
            known = [a.id for a in self.policy.attestations]
            for draft, order in orders:
                assessment = assess_candidacy(
                    chart,
                    today=today,
                    order=order,
                    attestations=attestations_on(draft, known),
                    policy=self.policy,
                )
                cards.append(candidacy_card(assessment, draft, setting, **uuid_kw))
                action = candidacy_update(assessment, draft)
                if action is not None:
                    actions.append(action)
        response: dict[str, Any] = {"cards": cards}
        if actions:
            response["systemActions"] = actions
        return response

    async def _chart(self, call: HookRequest) -> Chart:
        resources = await gather_chart(self.queries, call, self.http, policy=self.retry_policy)
        try:
            chart = chart_from_resources(resources)
        except ChartInvalidError as error:
            raise CdsRequestInvalidError(_as_prefetch_problems(error.problems)) from None
        patient = chart.patient
        if patient is not None and patient.get("id") not in (None, call.context.patient_id):
            raise CdsRequestInvalidError(
                [
                    Problem(
                        "prefetch.patient",
                        "same-patient",
                        "the chart's Patient is not context.patientId",
                    )
                ]
            )
        return chart


def _as_prefetch_problems(problems: Sequence[Problem]) -> list[Problem]:
    return [Problem(f"prefetch: {p.field}", p.rule, p.message) for p in problems]
