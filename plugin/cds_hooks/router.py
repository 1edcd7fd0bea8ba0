"""The CDS Hooks endpoints as a FastAPI router (the HTTP edge):

- ``GET  /cds-services`` — discovery;
- ``POST /cds-services/{id}`` — the order-select and order-sign services;
- ``POST /cds-services/{id}/feedback`` — card feedback, on cards the service returned to
  the same client (each answer's cards are remembered: `returned_cards`);
- ``OPTIONS`` on each — CORS preflight (no JWT: browsers send none);
- any other method — 405 with the endpoint's ``Allow``, an OperationOutcome and CORS.

Every call is authenticated by the CDS client's JWT, whose `aud` must be the exact URL called
(``settings.public_url`` + the path). Errors are answered here, in one place, with their status
and an OperationOutcome (400 invalid, 401 unauthenticated, 404 unknown service, 412 chart
unobtainable, 503 the token's `jti` could not be checked); the router needs no exception handler
from the app that includes it. Logs carry the service, status, card count and duration — never
a token, a body or a patient id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from fastapi import APIRouter, FastAPI, Request
from starlette.responses import Response

from plugin.candidacy.policy import Policy
from plugin.candidacy.policy_file import configured_policy
from plugin.cds_hooks.candidacy_service import CandidacyService
from plugin.cds_hooks.chart_queries import chart_queries
from plugin.cds_hooks.client_jwt import DEFAULT_ALGORITHMS, ClientJwtVerifier, VerifiedClient
from plugin.cds_hooks.client_keys import ClientKeys
from plugin.cds_hooks.cors import CORS_HEADERS, PREFLIGHT_HEADERS
from plugin.cds_hooks.discovery import CdsService, discovery_document, service_by_id
from plugin.cds_hooks.errors import (
    CdsHooksError,
    CdsRequestInvalidError,
    ClientUnauthorizedError,
    UnknownServiceError,
)
from plugin.cds_hooks.feedback import parse_feedback
from plugin.cds_hooks.feedback_store import FeedbackStore
from plugin.cds_hooks.hook_request import parse_json_body
from plugin.cds_hooks.operation_outcome import error_outcome, operation_outcome
from plugin.cds_hooks.returned_cards import cards_returned, feedback_problems
from plugin.cds_hooks.token_id_store import TokenIdStore
from plugin.errors import InputProblemError
from smart_app.clock import Clock, system_clock
from smart_app.settings import Settings

__all__ = ["CdsHooksRuntime", "build_runtime", "cds_router", "create_cds_app"]

_log = logging.getLogger(__name__)

DISCOVERY_PATH = "/cds-services"
#: The methods answered 405 where a CDS endpoint does not take them.
_HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
_OUTGOING_TIMEOUT = httpx.Timeout(5.0, connect=2.0)


@dataclass(slots=True)
class CdsHooksRuntime:
    """The long-lived parts of the CDS Hooks endpoints, built once from the settings."""

    settings: Settings
    clock: Clock
    http: httpx.AsyncClient
    keys: ClientKeys
    verifier: ClientJwtVerifier
    service: CandidacyService
    feedback: FeedbackStore
    token_ids: TokenIdStore
    discovery: dict[str, Any]

    def audience(self, request: Request) -> str:
        return f"{self.settings.public_url}{request.url.path}"

    async def aclose(self) -> None:
        await self.keys.aclose()
        await self.http.aclose()
        await self.feedback.dispose()
        await self.token_ids.dispose()


def build_runtime(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock = system_clock,
    policy: Policy | None = None,
    algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
) -> CdsHooksRuntime:
    """Raises ConfigurationError for an algorithm allowlist that is not asymmetric-only, and
    the policy loader's errors for an unusable `candidacy_policy_file`. `policy` (tests)
    replaces the configured one."""
    if policy is None:
        policy = configured_policy(settings.candidacy_policy_file)
    # Plain http (fhirServer, jwks_url) only while we ourselves run on http on the loopback host.
    development = not settings.cookie_secure
    http = httpx.AsyncClient(transport=transport, timeout=_OUTGOING_TIMEOUT, follow_redirects=False)
    keys = ClientKeys(http, clock, allow_plain_http=development)
    queries = chart_queries(policy)
    # Used JWT ids live in the product database so that every worker refuses a replay. An
    # engine of its own: FeedbackStore keeps its Database private, and pools open connections
    # only when used, so the cost is a second migration check at first use.
    token_ids = TokenIdStore(settings.database_url)
    return CdsHooksRuntime(
        settings=settings,
        clock=clock,
        http=http,
        keys=keys,
        verifier=ClientJwtVerifier(
            settings.cds_client, keys, clock, algorithms=algorithms, seen=token_ids
        ),
        service=CandidacyService(
            policy=policy,
            launch_url=f"{settings.public_url}/launch",
            http=http,
            clock=clock,
            zone=settings.zone,
            allow_plain_http_loopback=development,
            queries=queries,
        ),
        feedback=FeedbackStore(settings.database_url),
        token_ids=token_ids,
        discovery=discovery_document(queries),
    )


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        content=orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={**CORS_HEADERS, **(headers or {})},
    )


async def _answer(
    runtime: CdsHooksRuntime,
    request: Request,
    what: str,
    work: Callable[[VerifiedClient], Awaitable[Any]],
) -> Response:
    started = time.perf_counter()
    status = 200
    try:
        client = await runtime.verifier.verify(
            request.headers.get("authorization"), runtime.audience(request)
        )
        body = await work(client)
        # Feedback answers 200 with no body (CDS Hooks 2.0 §Feedback specifies none).
        response = (
            _json(200, body)
            if body is not None
            else Response(status_code=200, headers=CORS_HEADERS)
        )
    except ClientUnauthorizedError as error:
        status = 401
        _log.warning("CDS call refused: %s", error.reason)
        response = _json(401, error_outcome(error), {"WWW-Authenticate": "Bearer"})
    except CdsHooksError as error:
        status = error.status
        if status >= 500:
            # Our failure, not the client's: its cause (never a token or a body) for our log.
            _log.error("CDS %s failed: %s", what, error)
        response = _json(status, error_outcome(error))
    except InputProblemError as error:
        status = 400
        response = _json(400, error_outcome(CdsRequestInvalidError(error.problems)))
    except Exception:
        status = 500
        _log.exception("CDS %s failed", what)
        response = _json(500, operation_outcome("exception", "The CDS service could not answer."))
    _log.info("CDS %s: %d in %.1f ms", what, status, (time.perf_counter() - started) * 1000.0)
    return response


def _method_not_allowed(allowed: Sequence[str]) -> Callable[[], Awaitable[Response]]:
    allow = ", ".join(allowed)

    async def refuse() -> Response:
        outcome = operation_outcome("not-supported", f"This endpoint answers {allow} only.")
        return _json(405, outcome, {"Allow": allow})

    return refuse


def _service(service_id: str) -> CdsService:
    service = service_by_id(service_id)
    if service is None:
        raise UnknownServiceError(service_id)
    return service


def cds_router(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock = system_clock,
    policy: Policy | None = None,
    algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
) -> APIRouter:
    """The CDS Hooks endpoints. `transport` routes outgoing HTTP (fhirServer, client JWKS) in
    tests; the runtime is reachable as ``router.cds_runtime`` and closes with the app."""
    runtime = build_runtime(
        settings, transport=transport, clock=clock, policy=policy, algorithms=algorithms
    )

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        yield
        await runtime.aclose()

    router = APIRouter(lifespan=lifespan)
    router.cds_runtime = runtime  # type: ignore[attr-defined]

    async def preflight() -> Response:
        return Response(status_code=204, headers=PREFLIGHT_HEADERS)

    for path, allowed in (
        (DISCOVERY_PATH, ("GET", "OPTIONS")),
        (f"{DISCOVERY_PATH}/{{service_id}}", ("POST", "OPTIONS")),
        (f"{DISCOVERY_PATH}/{{service_id}}/feedback", ("POST", "OPTIONS")),
    ):
        router.add_api_route(path, preflight, methods=["OPTIONS"], include_in_schema=False)
        # Without a route of their own, other methods would get the framework's 405: the
        # first route's Allow (OPTIONS alone), a {"detail"} body and no CORS headers.
        router.add_api_route(
            path,
            _method_not_allowed(allowed),
            methods=[m for m in _HTTP_METHODS if m not in allowed],
            include_in_schema=False,
        )

    @router.get(DISCOVERY_PATH, include_in_schema=False)
    async def discovery(request: Request) -> Response:
        async def work(_: VerifiedClient) -> Any:
            return runtime.discovery

        return await _answer(runtime, request, "discovery", work)

    @router.post(f"{DISCOVERY_PATH}/{{service_id}}", include_in_schema=False)
    async def call_service(service_id: str, request: Request) -> Response:
        async def work(client: VerifiedClient) -> Any:
            service = _service(service_id)
            answer = await runtime.service.answer(service, await request.body())
            now = runtime.clock()
            returned = cards_returned(answer, service_id=service.id, client_iss=client.iss, now=now)
            await runtime.feedback.remember_cards(returned, now=now)
            return answer

        return await _answer(runtime, request, f"service {service_id[:80]!r}", work)

    @router.post(f"{DISCOVERY_PATH}/{{service_id}}/feedback", include_in_schema=False)
    async def feedback(service_id: str, request: Request) -> Response:
        async def work(client: VerifiedClient) -> Any:
            service = _service(service_id)
            now = runtime.clock()
            items = parse_feedback(parse_json_body(await request.body()), now=now)
            returned = await runtime.feedback.returned_cards([i.card for i in items], now=now)
            problems = feedback_problems(
                items, returned, service_id=service.id, client_iss=client.iss
            )
            if problems:
                raise CdsRequestInvalidError(problems, "CDS Hooks feedback")
            await runtime.feedback.record(
                items, service_id=service.id, client_iss=client.iss, now=now
            )
            return None

        return await _answer(runtime, request, f"feedback {service_id[:80]!r}", work)

    return router


def create_cds_app(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock = system_clock,
    policy: Policy | None = None,
    algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
) -> FastAPI:
    """The CDS Hooks endpoints as an app of their own (tests, a separate deployment)."""
    router = cds_router(
        settings, transport=transport, clock=clock, policy=policy, algorithms=algorithms
    )
    app = FastAPI(title="Discography CDS Hooks", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(router)
    app.state.cds_runtime = router.cds_runtime  # type: ignore[attr-defined]
    return app
