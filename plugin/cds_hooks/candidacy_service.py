"""One CDS Hooks call of a candidacy service, from the body to the response object: check the
call, find the discography drafts (none → ``{"cards": []}`` without reading the chart), gather
the chart (prefetch, else fhirServer, else 412), assess each study with the candidacy engine
and build its card and the systemActions.

A study is the drafts for one region and levels (the injection, CPT 62290, and its imaging,
72295, are often two drafts): one assessment, made with the physician attestations carried by
any of its drafts — an attestation is a statement about the study, whichever order carries
it — and one card naming every draft; each draft gets its own systemAction recording that
same assessment.

A call whose prefetch holds the whole chart — the common case, and a body of megabytes for a
long chart — is answered from its raw bytes in one synchronous pass with the cyclic garbage
collector paused (see `garbage_collection`); a call that needs fhirServer is read the same
way, then fetched with the collector running, then assessed.

HTTP, authentication and error statuses are the router's; this module raises the errors of
`plugin.cds_hooks.errors`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, tzinfo
from typing import Any

import httpx

from plugin.candidacy.assessment import Assessment
from plugin.candidacy.chart import Chart, ChartInvalidError, chart_from_resources
from plugin.candidacy.engine import assess_candidacy
from plugin.candidacy.lookback import words_only_since
from plugin.candidacy.order import Order, OrderInvalidError, order_from_service_request
from plugin.candidacy.policy import Policy
from plugin.cds_hooks.cards import (
    CardSetting,
    candidacy_card,
    order_problem_card,
    subject_problem_card,
)
from plugin.cds_hooks.chart_gathering import fetch_missing, in_query_order, read_prefetched
from plugin.cds_hooks.chart_queries import ChartQuery, chart_queries
from plugin.cds_hooks.discovery import CdsService
from plugin.cds_hooks.draft_orders import discography_drafts
from plugin.cds_hooks.draft_subject import subject_problem
from plugin.cds_hooks.errors import CdsRequestInvalidError
from plugin.cds_hooks.extension import attestations_on
from plugin.cds_hooks.garbage_collection import collection_paused
from plugin.cds_hooks.hook_request import HookRequest, parse_hook_request, parse_json_body
from plugin.cds_hooks.system_actions import candidacy_update
from plugin.errors import Problem
from smart_app.clock import Clock, site_day, system_clock
from smart_app.fhir_client import RetryPolicy

__all__ = ["CandidacyService"]


@dataclass(slots=True)
class CandidacyService:
    """Answers order-select and order-sign calls for one policy."""

    policy: Policy
    launch_url: str
    http: httpx.AsyncClient
    clock: Clock = system_clock
    zone: tzinfo = UTC  # the site's: the day assessed on is the site's calendar day
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy.for_cds)
    allow_plain_http_loopback: bool = False
    new_uuid: Callable[[], str] | None = None
    queries: tuple[ChartQuery, ...] = ()

    def __post_init__(self) -> None:
        if not self.queries:
            self.queries = chart_queries(self.policy)

    async def answer(self, service: CdsService, body: bytes | Any) -> dict[str, Any]:
        """The response to a call: `body` is the raw request body (the router's way in), or
        its decoded JSON."""
        if isinstance(body, bytes | bytearray):
            return await self._answer_raw(service, bytes(body))
        prepared = self._prepared(service, body)
        if isinstance(prepared, dict):
            return prepared
        answers, missing = read_prefetched(
            self.queries, prepared.call, horizon=self._horizon(prepared)
        )
        answers |= await self._fetched(prepared, missing)
        return self._respond(prepared, in_query_order(self.queries, answers))

    async def _answer_raw(self, service: CdsService, raw: bytes) -> dict[str, Any]:
        with collection_paused():
            answered = self._answer_prefetched(service, raw)
        if isinstance(answered, dict):
            return answered
        answered.answers |= await self._fetched(answered.prepared, answered.missing)
        with collection_paused():
            return self._respond(answered.prepared, in_query_order(self.queries, answered.answers))

    def _answer_prefetched(self, service: CdsService, raw: bytes) -> dict[str, Any] | _Pending:
        # Everything decoded here is freed when this returns, inside the caller's pause —
        # unless the chart must be fetched, when the pending call keeps it.
        prepared = self._prepared(service, parse_json_body(raw))
        if isinstance(prepared, dict):
            return prepared
        answers, missing = read_prefetched(
            self.queries, prepared.call, horizon=self._horizon(prepared)
        )
        if missing:
            return _Pending(prepared, answers, missing)
        return self._respond(prepared, in_query_order(self.queries, answers))

    def _prepared(self, service: CdsService, body: Any) -> _Prepared | dict[str, Any]:
        """The checked call and its discography orders; the final response already when
        there is nothing to assess."""
        call = parse_hook_request(
            body, service.hook, allow_plain_http_loopback=self.allow_plain_http_loopback
        )
        drafts = discography_drafts(call.context)
        if not drafts:
            return {"cards": []}
        setting = CardSetting(call=call, service_id=service.id, launch_url=self.launch_url)
        # One day for the whole call: the chart's horizon and the assessment agree on it.
        prepared = _Prepared(call, setting, site_day(self.clock, self.zone))
        for draft in drafts:
            foreign = subject_problem(draft, call.context.patient_id)
            if foreign is not None:
                prepared.cards.append(subject_problem_card(foreign, draft, **self._uuid_kw()))
                continue
            try:
                prepared.orders.append((draft, order_from_service_request(draft)))
            except OrderInvalidError as error:
                prepared.cards.append(
                    order_problem_card(error.problems, draft, setting, **self._uuid_kw())
                )
        if not prepared.orders:
            return {"cards": prepared.cards}
        return prepared

    def _respond(self, prepared: _Prepared, resources: list[Mapping[str, Any]]) -> dict[str, Any]:
        chart = self._chart(resources, self._horizon(prepared))
        today = prepared.today
        known = [a.id for a in self.policy.attestations]
        # Drafts for the same region and levels — the injection and the imaging codes of one
        # study (CPT 62290 and 72295) — are one study: one assessment and one card. An
        # attestation is the physician's statement about the study, whichever of its drafts
        # carries it, so the study is assessed with those of all its drafts; each draft still
        # gets its own systemAction, recording that one assessment, in draftOrders order.
        studies: dict[tuple[Any, ...], _Study] = {}
        for draft, order in prepared.orders:
            study = studies.setdefault((order.region, order.levels), _Study(order))
            study.drafts.append(draft)
            study.attestations.update(attestations_on(draft, known))
        cards = list(prepared.cards)
        assessed: dict[tuple[Any, ...], Assessment] = {}
        for key, study in studies.items():
            assessment = assess_candidacy(
                chart,
                today=today,
                order=study.order,
                attestations=tuple(sorted(study.attestations)),
                policy=self.policy,
            )
            assessed[key] = assessment
            cards.append(
                candidacy_card(assessment, study.drafts, prepared.setting, **self._uuid_kw())
            )
        actions = [
            action
            for draft, order in prepared.orders
            if (action := candidacy_update(assessed[order.region, order.levels], draft)) is not None
        ]
        response: dict[str, Any] = {"cards": cards}
        if actions:
            response["systemActions"] = actions
        return response

    def _horizon(self, prepared: _Prepared) -> date | None:
        return words_only_since(self.policy, prepared.today)

    async def _fetched(
        self, prepared: _Prepared, missing: Sequence[ChartQuery]
    ) -> dict[str, tuple[Mapping[str, Any], ...]]:
        return await fetch_missing(
            missing,
            prepared.call,
            self.http,
            policy=self.retry_policy,
            today=prepared.today,
            horizon=self._horizon(prepared),
        )

    def _uuid_kw(self) -> dict[str, Callable[[], str]]:
        return {} if self.new_uuid is None else {"new_uuid": self.new_uuid}

    def _chart(self, resources: list[Mapping[str, Any]], horizon: date | None) -> Chart:
        # Every resource is already known to be about context.patientId (`same_patient`); the
        # dated Observations were read from the horizon on (`latest_first`).
        try:
            return chart_from_resources(resources, observations_from=horizon)
        except ChartInvalidError as error:
            raise CdsRequestInvalidError(_as_prefetch_problems(error.problems)) from None


@dataclass(slots=True)
class _Prepared:
    """A checked call with discography orders: each order read from its draft, and the
    cards of drafts that could not be read."""

    call: HookRequest
    setting: CardSetting
    today: date  # the site's calendar day the call is assessed on
    orders: list[tuple[Mapping[str, Any], Order]] = field(default_factory=list)
    cards: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class _Study:
    """One study (region and levels): the drafts in focus that order it and the
    attestations any of them carries."""

    order: Order
    drafts: list[Mapping[str, Any]] = field(default_factory=list)
    attestations: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Pending:
    """A call whose chart is partly to be fetched from fhirServer."""

    prepared: _Prepared
    answers: dict[str, tuple[Mapping[str, Any], ...]]
    missing: list[ChartQuery]


def _as_prefetch_problems(problems: Sequence[Problem]) -> list[Problem]:
    # The chart's paths index the merged list of every key's records, which the client
    # cannot map back to its request: the issue points at the prefetch as a whole, and its
    # message names the record (Type/id) and the element.
    return [Problem("prefetch", p.rule, p.message) for p in problems]
