"""The one client the product uses to talk to an EHR's FHIR R4 server (async httpx).

It reads, searches (following `next` links, bounded), runs searches in parallel, creates,
updates and posts transactions; retries what is safe to retry, honours `Retry-After`, renews
the access token once on a 401, and turns every failure into an error of `fhir_errors`.

The caller owns the `httpx.AsyncClient` (its lifecycle and transport); one FhirClient serves
one FHIR base URL with one TokenSource. A client given a `page_size` asks for pages that large
(`_count`): a long chart then takes a few round trips instead of dozens, on servers that
honour it (a server may always send fewer; one that refuses the parameter is asked again
without it). Bodies are decoded with orjson: a chart of thousands of resources is megabytes.
Logs carry the interaction, resource type, status and duration only — never URLs (ids and
search values are patient data), bodies or tokens.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import random
import re
import string
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import quote, urlencode, urljoin, urlsplit

import httpx
import orjson

from plugin.errors import InputProblemError, Problem
from smart_app.capabilities import CapabilityCache, ServerCapabilities
from smart_app.fhir_errors import (
    FhirAuthError,
    FhirError,
    FhirPagingError,
    FhirTimeoutError,
    FhirTransportError,
    FhirUnexpectedResponseError,
    OutcomeIssue,
    RequestSummary,
    ResponseSummary,
    TokenRefreshUnavailableError,
    http_error,
    outcome_issues,
)

__all__ = [
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_MAX_PAGES",
    "DEFAULT_MAX_RESOURCES",
    "CreateResult",
    "FhirClient",
    "RetryPolicy",
    "SearchParams",
    "SearchQuery",
    "SearchResults",
    "StaticTokenSource",
    "TokenSource",
    "WriteResult",
    "retry_after_seconds",
    "search_pairs",
]

_log = logging.getLogger(__name__)

DEFAULT_MAX_PAGES = 20
DEFAULT_MAX_RESOURCES = 2000
DEFAULT_MAX_CONCURRENCY = 8

FHIR_JSON = "application/fhir+json"
# Some older servers only answer to plain JSON; both are acceptable to us.
_ACCEPT = "application/fhir+json, application/json;q=0.9"

_RESOURCE_TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")
_RESOURCE_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_WEAK_ETAG = re.compile(r'^(?:W/)?"?([^"]*)"?$')

# Failures after which the request may not have reached the server's application logic, or
# whose answer was lost: retried for idempotent requests only.
_RETRYABLE_TRANSPORT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)

K = TypeVar("K", bound=Hashable)

SearchParams = Mapping[str, str | int | Sequence[str]] | Sequence[tuple[str, str]]
"""Search parameters: a mapping (a sequence value repeats the parameter, e.g. two `date`
bounds) or (name, value) pairs in order."""


class TokenSource(Protocol):
    """Where the client gets its bearer token.

    `refreshed_access_token` must force a new token (it is called once after a 401) and raise
    TokenRefreshUnavailableError when it cannot. The client already serialises its own refreshes;
    implementations shared by several clients should make refresh single-flight too, because
    SMART refresh tokens must not be used twice.
    """

    async def access_token(self) -> str: ...

    async def refreshed_access_token(self) -> str: ...


class StaticTokenSource:
    """A token handed to us that we cannot renew, e.g. CDS Hooks `fhirAuthorization`:
    a 401 is final."""

    def __init__(self, token: str) -> None:
        if not token.strip():
            raise InputProblemError(
                [Problem("access_token", "required", "must not be empty")], "FHIR authorization"
            )
        self._token = token

    def __repr__(self) -> str:
        return "StaticTokenSource(<token>)"

    async def access_token(self) -> str:
        return self._token

    async def refreshed_access_token(self) -> str:
        raise TokenRefreshUnavailableError(
            "this access token was handed to us and cannot be renewed"
        )


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How hard to try. Times are seconds. `deadline` bounds one call of the client (a
    search with all its pages, a create with its retries); `request_timeout` one HTTP
    exchange. `sleep`, `clock`, `wall_clock` and `jitter` are injectable for tests.

    Use `for_cds()` inside a CDS Hooks call (the EHR is waiting on us) and `for_app()` (the
    defaults) behind the app's pages.
    """

    max_attempts: int = 4  # sends of one request, first one included; the 401 resend is free
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    deadline: float = 60.0
    request_timeout: float = 20.0
    retry_statuses: frozenset[int] = frozenset({429, 502, 503, 504})
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], datetime] = _utc_now  # for Retry-After HTTP dates
    jitter: Callable[[], float] = random.random  # not a secret: spreads retries of many clients

    def __post_init__(self) -> None:
        problems = [
            Problem(name, "positive", "must be more than 0")
            for name in ("backoff_base", "backoff_max", "deadline", "request_timeout")
            if not getattr(self, name) > 0
        ]
        if self.max_attempts < 1:
            problems.append(Problem("max_attempts", "at-least-one", "must be 1 or more"))
        if self.backoff_max < self.backoff_base:
            problems.append(
                Problem("backoff_max", "not-below-base", "must not be less than backoff_base")
            )
        if self.request_timeout > self.deadline:
            problems.append(
                Problem("request_timeout", "within-deadline", "must not exceed deadline")
            )
        if problems:
            raise InputProblemError(problems, "retry policy")

    @classmethod
    def for_cds(cls, **changes: Any) -> RetryPolicy:
        """Inside a CDS Hooks request: each FHIR call under 2 s, one retry, 3 s in all."""
        base = cls(
            max_attempts=2, backoff_base=0.1, backoff_max=0.5, deadline=3.0, request_timeout=1.5
        )
        return dataclasses.replace(base, **changes)

    @classmethod
    def for_app(cls, **changes: Any) -> RetryPolicy:
        """Behind the app's pages: patient enough for a slow EHR, bounded for the user."""
        return dataclasses.replace(cls(), **changes)

    def backoff(self, retry: int) -> float:
        """Seconds before retry number `retry` (1, 2, …): exponential, capped, with "equal
        jitter" (half fixed, half random) so many clients do not retry in step."""
        ceiling = min(self.backoff_max, self.backoff_base * 2.0 ** (retry - 1))
        return ceiling / 2 + self.jitter() * ceiling / 2


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """`Retry-After` as seconds from `now`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
    None when absent or unreadable; a date in the past is 0.

    >>> retry_after_seconds("120", datetime(2025, 1, 1, tzinfo=UTC))
    120.0
    >>> retry_after_seconds("Wed, 01 Jan 2025 00:00:30 GMT", datetime(2025, 1, 1, tzinfo=UTC))
    30.0
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 850/asctime forms carry no zone: they are GMT
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - now).total_seconds())
    return max(0.0, seconds) if seconds == seconds else None  # NaN is unreadable


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """One search for `FhirClient.search_many`."""

    resource_type: str
    params: SearchParams = field(default_factory=dict)
    max_pages: int = DEFAULT_MAX_PAGES
    max_resources: int = DEFAULT_MAX_RESOURCES
    page_size: int | None = None  # None: the client's page_size


class SearchResults(list[dict[str, Any]]):
    """The resources a search matched, in the server's order, across pages (each resource
    once). Also: `included` (`_include`d resources), `outcomes` (OperationOutcomes the server
    put in the Bundle, e.g. warnings), `total` (Bundle.total of the first page, when sent),
    `pages` read, `truncated` — True when a bound stopped the paging before the end — and
    `next_url`, the `next` link it stopped at (`FhirClient.search(next_url=…)` reads on)."""

    def __init__(
        self,
        matches: Iterable[dict[str, Any]] = (),
        *,
        included: Iterable[dict[str, Any]] = (),
        outcomes: Iterable[dict[str, Any]] = (),
        total: int | None = None,
        pages: int = 0,
        truncated: bool = False,
        next_url: str | None = None,
    ) -> None:
        super().__init__(matches)
        self.included = list(included)
        self.outcomes = list(outcomes)
        self.total = total
        self.pages = pages
        self.truncated = truncated
        self.next_url = next_url


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a create or update returned. `status` 201 means created; 200 on a conditional
    create means a matching resource already existed and nothing was written. `resource` is
    the server's copy when it sent one back (we ask with `Prefer: return=representation`)."""

    status: int
    id: str | None
    version: str | None
    location: str | None
    resource: dict[str, Any] | None

    @property
    def created(self) -> bool:
        return self.status == 201


CreateResult = WriteResult


class FhirClient:
    """One EHR FHIR base URL, one token source, one injected `httpx.AsyncClient`.

    `capability_cache` should be the process-wide CapabilityCache so /metadata is read once
    per EHR; without one, this client keeps its own. `max_concurrency` bounds the requests
    this client has in flight at once (parallel searches queue behind it). `page_size`, when
    given, is the `_count` asked for on searches that do not set their own.
    """

    def __init__(
        self,
        base_url: str,
        token_source: TokenSource | None,
        http: httpx.AsyncClient,
        *,
        policy: RetryPolicy | None = None,
        capability_cache: CapabilityCache | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        page_size: int | None = None,
    ) -> None:
        self._base = _checked_base_url(base_url)
        self._origin = _origin(self._base)
        self._tokens = token_source  # None: an anonymous client (metadata before launch)
        self._http = http
        self._policy = policy or RetryPolicy.for_app()
        self._capabilities = capability_cache or CapabilityCache()
        if max_concurrency < 1:
            raise InputProblemError(
                [Problem("max_concurrency", "at-least-one", "must be 1 or more")], "FHIR client"
            )
        _check_page_size(page_size)
        self._page_size = page_size
        self._in_flight = asyncio.Semaphore(max_concurrency)
        self._refreshing = asyncio.Lock()

    @property
    def base_url(self) -> str:
        return self._base

    @property
    def policy(self) -> RetryPolicy:
        return self._policy

    # -- interactions ----------------------------------------------------------------------

    async def read(self, resource_type: str, resource_id: str) -> dict[str, Any]:
        """GET [base]/[type]/[id]."""
        _check_type(resource_type)
        _check_id(resource_id)
        request = RequestSummary("read", "GET", resource_type)
        response = await self._exchange(
            request, "GET", f"{self._base}/{resource_type}/{resource_id}", retry_safe=True
        )
        return _resource_body(request, response, resource_type)

    async def search(
        self,
        resource_type: str,
        params: SearchParams | None = None,
        *,
        max_pages: int = DEFAULT_MAX_PAGES,
        max_resources: int = DEFAULT_MAX_RESOURCES,
        page_size: int | None = None,
        next_url: str | None = None,
    ) -> SearchResults:
        """GET [base]/[type]?params, then each `next` link up to `max_pages` pages and
        `max_resources` matches (see SearchResults.truncated). A `next` link to another
        origin than the base, or back to a page already read, raises FhirPagingError.
        `page_size` (else the client's) is sent as `_count` unless `params` set one.
        With `next_url` (an earlier result's `SearchResults.next_url`) the search reads on
        from that page instead, its bounds counted afresh; `params` are then not sent."""
        _check_type(resource_type)
        if max_pages < 1 or max_resources < 1:
            raise InputProblemError(
                [Problem("max_pages/max_resources", "at-least-one", "must be 1 or more")],
                "FHIR search",
            )
        _check_page_size(page_size)
        deadline = self._policy.clock() + self._policy.deadline
        request = RequestSummary("search", "GET", resource_type)
        first_url = f"{self._base}/{resource_type}"
        url: str | None = first_url
        query: list[tuple[str, str]] | None = search_pairs(params or {})
        size = page_size or self._page_size
        response: httpx.Response | None = None
        if next_url is not None:
            url, query = next_url, None
            if _origin(url) != self._origin:
                raise FhirPagingError(
                    f"{request}: next link points to another origin; not followed",
                    request=request,
                )
        elif size is not None and not any(name == "_count" for name, _ in query or ()):
            response, query = await self._first_page(
                request, first_url, query or [], size, deadline
            )
        seen_pages = {f"{url}?{urlencode(query)}" if query else url}
        seen_ids: set[tuple[bool, Any, Any]] = set()
        matches: list[dict[str, Any]] = []
        included: list[dict[str, Any]] = []
        outcomes: list[dict[str, Any]] = []
        total: int | None = None
        pages = 0
        truncated = False
        stopped_at: str | None = None
        while url is not None:
            if response is None:
                response = await self._exchange(
                    request, "GET", url, params=query, deadline=deadline
                )
            bundle = _bundle_body(request, response)
            entries = _search_entries(request, response, bundle)
            response = None
            pages += 1
            if pages == 1 and isinstance(bundle.get("total"), int):
                total = bundle["total"]
            for entry in entries:
                resource = entry.get("resource")
                if resource is None:
                    continue  # an entry with only request/response (bdl-5): no record
                search = entry.get("search")
                mode = search.get("mode") if isinstance(search, dict) else None
                if mode == "outcome" or (
                    mode is None and resource.get("resourceType") == "OperationOutcome"
                ):
                    outcomes.append(resource)
                    continue
                key = (mode == "include", resource.get("resourceType"), resource.get("id"))
                if "id" in resource:
                    # Offset paging repeats resources when data changes between pages.
                    if key in seen_ids:
                        continue
                    seen_ids.add(key)
                if mode == "include":
                    included.append(resource)
                elif len(matches) < max_resources:
                    matches.append(resource)
                else:
                    truncated = True
            url = _next_link(bundle, self._base)
            if url is not None and (pages >= max_pages or len(matches) >= max_resources):
                truncated = True
                stopped_at, url = url, None
            if url is not None:
                if _origin(url) != self._origin:
                    raise FhirPagingError(
                        f"{request}: next link points to another origin; not followed",
                        request=request,
                    )
                if url in seen_pages:
                    raise FhirPagingError(f"{request}: next link repeats a page", request=request)
                seen_pages.add(url)
            query = None  # a next link carries its own query
        if truncated:
            # The caller's bound, and the caller may read on (next_url): not a loss here.
            _log.info(
                "FHIR search %s stopped at its bound after %d page(s), %d match(es)",
                resource_type,
                pages,
                len(matches),
            )
        return SearchResults(
            matches,
            included=included,
            outcomes=outcomes,
            total=total,
            pages=pages,
            truncated=truncated,
            next_url=stopped_at,
        )

    async def search_many(self, queries: Mapping[K, SearchQuery]) -> dict[K, SearchResults]:
        """Run searches in parallel (at most `max_concurrency` requests at once). The first
        failure cancels the others and is raised."""
        try:
            async with asyncio.TaskGroup() as group:
                tasks = {key: group.create_task(self._run(query)) for key, query in queries.items()}
        except BaseExceptionGroup as failures:
            raise _first_leaf(failures) from None
        return {key: task.result() for key, task in tasks.items()}

    async def search_many_settled(
        self,
        queries: Mapping[K, SearchQuery],
        *,
        run: Callable[[SearchQuery], Awaitable[SearchResults]] | None = None,
    ) -> dict[K, SearchResults | FhirError]:
        """Like search_many, but each search ends on its own: a failed one maps to its
        FhirError and the others still return (a page can show what it could read). `run`
        reads one search another way (in parts, `smart_app.search_in_parts`)."""
        read = run or self._run

        async def settle(query: SearchQuery) -> SearchResults | FhirError:
            try:
                return await read(query)
            except FhirError as error:
                return error

        keys = list(queries)
        outcomes = await asyncio.gather(*(settle(queries[key]) for key in keys))
        return dict(zip(keys, outcomes, strict=True))

    async def create(
        self,
        resource: Mapping[str, Any],
        *,
        if_none_exist: str | Mapping[str, str] | None = None,
        retry_safe: bool | None = None,
    ) -> WriteResult:
        """POST [base]/[type]. With `if_none_exist` (a search query) the server creates only
        when nothing matches (conditional create).

        A POST whose answer was lost may have been committed, so it is retried only when
        `retry_safe` — by default only for conditional creates, where a resend finds the first
        copy instead of writing a second one. (429 is always retried: the server says it did
        not process the request.)
        """
        resource_type = _resource_type_of(resource, "resource")
        headers = {"Prefer": "return=representation"}
        if if_none_exist is not None:
            headers["If-None-Exist"] = _conditional_query(if_none_exist)
        safe = (if_none_exist is not None) if retry_safe is None else retry_safe
        request = RequestSummary("create", "POST", resource_type)
        response = await self._exchange(
            request,
            "POST",
            f"{self._base}/{resource_type}",
            body=resource,
            headers=headers,
            retry_safe=safe,
        )
        return _write_result(request, response, resource_type)

    async def update(
        self, resource: Mapping[str, Any], *, if_match: str | None = None
    ) -> WriteResult:
        """PUT [base]/[type]/[id]. `if_match` (a version id, or an ETag as the server sent
        it) makes the update fail with FhirPreconditionFailed when someone changed it since.

        A plain PUT is idempotent and is retried; with `If-Match` a resend after a lost
        answer would fail against our own first write, so it is not.
        """
        resource_type = _resource_type_of(resource, "resource")
        resource_id = resource.get("id")
        if not isinstance(resource_id, str) or not _RESOURCE_ID.fullmatch(resource_id):
            raise InputProblemError(
                [Problem("resource.id", "fhir-id", "an update needs the resource's id")],
                "FHIR update",
            )
        headers = {"Prefer": "return=representation"}
        if if_match is not None:
            headers["If-Match"] = _etag(if_match)
        request = RequestSummary("update", "PUT", resource_type)
        response = await self._exchange(
            request,
            "PUT",
            f"{self._base}/{resource_type}/{resource_id}",
            body=resource,
            headers=headers,
            retry_safe=if_match is None,
        )
        return _write_result(request, response, resource_type)

    async def transaction(
        self, bundle: Mapping[str, Any], *, retry_safe: bool = False
    ) -> dict[str, Any]:
        """POST a `transaction` (all or nothing) or `batch` Bundle to the base; returns the
        response Bundle. Pass `retry_safe=True` only when every entry is conditional
        (`ifNoneExist`, `ifMatch`), so a resend after a lost answer cannot duplicate."""
        kind = bundle.get("type")
        if bundle.get("resourceType") != "Bundle" or kind not in ("transaction", "batch"):
            raise InputProblemError(
                [
                    Problem(
                        "bundle.type",
                        "transaction-or-batch",
                        "must be a Bundle of type transaction or batch",
                    )
                ],
                "FHIR transaction",
            )
        request = RequestSummary(str(kind), "POST", "Bundle")
        response = await self._exchange(
            request, "POST", self._base, body=bundle, retry_safe=retry_safe
        )
        result = _resource_body(request, response, "Bundle")
        if result.get("type") != f"{kind}-response":
            raise FhirUnexpectedResponseError(
                f"{request}: answer is not a {kind}-response Bundle",
                request=request,
                response=_summary(response, 1),
            )
        return result

    async def capabilities(self) -> ServerCapabilities:
        """What the server supports, from GET [base]/metadata — read once per base URL per
        cache lifetime, shared by every client using the same CapabilityCache."""
        return await self._capabilities.get(self._base, self._fetch_capabilities)

    async def _fetch_capabilities(self) -> ServerCapabilities:
        request = RequestSummary("capabilities", "GET", "CapabilityStatement")
        response = await self._exchange(request, "GET", f"{self._base}/metadata", retry_safe=True)
        body = _json_body(request, response)
        try:
            return ServerCapabilities.from_statement(body, base_url=self._base)
        except InputProblemError as exc:
            raise FhirUnexpectedResponseError(
                f"{request}: the answer is not a CapabilityStatement",
                request=request,
                response=_summary(response, 1),
            ) from exc

    async def _run(self, query: SearchQuery) -> SearchResults:
        return await self.search(
            query.resource_type,
            query.params,
            max_pages=query.max_pages,
            max_resources=query.max_resources,
            page_size=query.page_size,
        )

    async def _first_page(
        self,
        request: RequestSummary,
        url: str,
        query: list[tuple[str, str]],
        size: int,
        deadline: float,
    ) -> tuple[httpx.Response, list[tuple[str, str]]]:
        """The first page asked with `_count` = `size`, and the query that got it. A server
        that refuses the parameter (400) is asked once more without it; a 400 for another
        reason then fails the same way again."""
        asked = [*query, ("_count", str(size))]
        try:
            response = await self._exchange(request, "GET", url, params=asked, deadline=deadline)
        except FhirError as error:
            if error.response is None or error.response.status != 400:
                raise
            _log.info("FHIR %s: _count refused; asking without it", request)
            response = await self._exchange(request, "GET", url, params=query, deadline=deadline)
            return response, query
        return response, asked

    # -- one request, with retries ---------------------------------------------------------

    async def _exchange(
        self,
        request: RequestSummary,
        method: str,
        url: str,
        *,
        params: list[tuple[str, str]] | None = None,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        retry_safe: bool = True,
        deadline: float | None = None,
    ) -> httpx.Response:
        """Send until a 2xx (returned) or a final failure (raised as a FhirError)."""
        policy = self._policy
        if deadline is None:
            deadline = policy.clock() + policy.deadline
        content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        token = await self._tokens.access_token() if self._tokens is not None else None
        refreshed = False
        retries = 0
        sends = 0
        while True:
            remaining = deadline - policy.clock()
            if remaining <= 0:
                raise FhirTimeoutError(f"{request}: deadline passed", request=request)
            sends += 1
            outgoing = self._http.build_request(
                method,
                f"{url}?{urlencode(params)}" if params else url,
                content=content,
                headers=_headers(token, content is not None, headers),
                timeout=httpx.Timeout(min(policy.request_timeout, remaining)),
            )
            started = policy.clock()
            try:
                async with self._in_flight:
                    response = await self._http.send(outgoing, follow_redirects=False)
            except httpx.TransportError as exc:
                error = _transport_error(request, exc, sends)
                _log.info("FHIR %s failed: %s (send %d)", request, type(exc).__name__, sends)
                if not (retry_safe and isinstance(exc, _RETRYABLE_TRANSPORT)):
                    raise error from exc
                retries += 1
                await self._wait_or_raise(error, retries, None, deadline, exc)
                continue
            elapsed_ms = (policy.clock() - started) * 1000
            _log.debug(
                "FHIR %s -> %d in %.0f ms (send %d)",
                request,
                response.status_code,
                elapsed_ms,
                sends,
            )
            status = response.status_code
            if 200 <= status < 300:
                return response
            if status == 401 and not refreshed and self._tokens is not None:
                # A token can expire between our check and the server's; renew once, and
                # do not count it as a retry.
                refreshed = True
                token = await self._renewed_token(token, request, response, sends)
                continue
            if 300 <= status < 400:
                # Redirects are not followed: the token must not go where the EHR points.
                raise FhirUnexpectedResponseError(
                    f"{request}: redirect {status} not followed",
                    request=request,
                    response=_summary(response, sends),
                )
            summary = _summary(response, sends, policy.wall_clock())
            error = http_error(request, summary, _issues(response))
            retryable = status in policy.retry_statuses and (retry_safe or status == 429)
            if not retryable:
                raise error
            retries += 1
            await self._wait_or_raise(error, retries, summary.retry_after, deadline, None)

    async def _wait_or_raise(
        self,
        error: FhirError,
        retries: int,
        retry_after: float | None,
        deadline: float,
        cause: BaseException | None,
    ) -> None:
        """Sleep before retry number `retries`, or raise `error` when no retry is left or
        the wait would end past the deadline (a Retry-After we cannot honour ends it too)."""
        policy = self._policy
        wait = retry_after if retry_after is not None else policy.backoff(retries)
        if retries >= policy.max_attempts or policy.clock() + wait >= deadline:
            raise error from cause
        _log.info("FHIR %s: retry %d in %.2f s", error.request, retries, wait)
        await policy.sleep(wait)

    async def _renewed_token(
        self, used: str | None, request: RequestSummary, response: httpx.Response, sends: int
    ) -> str:
        assert self._tokens is not None
        async with self._refreshing:
            current = await self._tokens.access_token()
            if current != used:
                return current  # a parallel request renewed it while we waited
            try:
                return await self._tokens.refreshed_access_token()
            except TokenRefreshUnavailableError as exc:
                raise FhirAuthError(request, _summary(response, sends), _issues(response)) from exc


# -- pure helpers of the client ------------------------------------------------------------


def _checked_base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InputProblemError(
            [
                Problem(
                    "base_url",
                    "fhir-base-url",
                    "must be an absolute http(s) URL without query or fragment",
                )
            ],
            "FHIR client",
        )
    return value.rstrip("/")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default_port = {"http": 80, "https": 443}.get(parts.scheme.lower())
    try:
        port = parts.port or default_port
    except ValueError:  # a malformed port never matches the base
        port = -1
    return (parts.scheme.lower(), (parts.hostname or "").lower(), port)


def _check_page_size(page_size: int | None) -> None:
    if page_size is not None and page_size < 1:
        raise InputProblemError(
            [Problem("page_size", "at-least-one", "must be 1 or more")], "FHIR search"
        )


def _check_type(resource_type: str) -> None:
    if not _RESOURCE_TYPE.fullmatch(resource_type):
        raise InputProblemError(
            [Problem("resource_type", "fhir-resource-type", "must be a FHIR resource type name")],
            "FHIR request",
        )


def _check_id(resource_id: str) -> None:
    # Checked so an id can never change the path (`../`, `?`) of the request.
    if not _RESOURCE_ID.fullmatch(resource_id):
        raise InputProblemError(
            [Problem("id", "fhir-id", "must be 1–64 letters, digits, '-' or '.'")],
            "FHIR request",
        )


def _resource_type_of(resource: Mapping[str, Any], name: str) -> str:
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str) or not _RESOURCE_TYPE.fullmatch(resource_type):
        raise InputProblemError(
            [Problem(f"{name}.resourceType", "fhir-resource-type", "must name a resource type")],
            "FHIR request",
        )
    return resource_type


def search_pairs(params: SearchParams) -> list[tuple[str, str]]:
    """Search parameters as (name, value) pairs; a mapping's sequence value repeats."""
    if not isinstance(params, Mapping):
        return [(str(k), str(v)) for k, v in params]
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if isinstance(value, str | int):
            pairs.append((name, str(value)))
        else:
            pairs.extend((name, str(v)) for v in value)
    return pairs


def _conditional_query(value: str | Mapping[str, str]) -> str:
    if isinstance(value, str):
        # A header value: percent-encode what a header cannot carry (non-ASCII, CR/LF).
        query = quote(value.lstrip("?").strip(), safe=string.punctuation)
    else:
        query = urlencode(list(value.items()))
    if not query:
        raise InputProblemError(
            [Problem("if_none_exist", "required", "must be a non-empty search query")],
            "FHIR create",
        )
    return query


def _etag(version: str) -> str:
    """`If-Match` value from a version id ("3") or an ETag as sent (`W/"3"`)."""
    match = _WEAK_ETAG.match(version.strip())
    version_id = match.group(1) if match else ""
    if not _RESOURCE_ID.fullmatch(version_id):
        raise InputProblemError(
            [Problem("if_match", "fhir-version-id", 'must be a version id ("3") or W/"3"')],
            "FHIR update",
        )
    return f'W/"{version_id}"'


def _headers(token: str | None, has_body: bool, extra: Mapping[str, str] | None) -> dict[str, str]:
    headers = {"Accept": _ACCEPT}
    if has_body:
        headers["Content-Type"] = f"{FHIR_JSON}; charset=utf-8"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if extra:
        headers.update(extra)
    return headers


def _summary(response: httpx.Response, sends: int, now: datetime | None = None) -> ResponseSummary:
    """The response without its body; `now` (wall clock) to read `Retry-After`."""
    content_type = response.headers.get("content-type")
    retry_after = response.headers.get("retry-after")
    return ResponseSummary(
        status=response.status_code,
        content_type=content_type.split(";")[0].strip() if content_type else None,
        attempts=sends,
        retry_after=retry_after_seconds(retry_after, now) if now is not None else None,
    )


def _issues(response: httpx.Response) -> tuple[OutcomeIssue, ...]:
    try:
        return outcome_issues(response.json())
    except ValueError:
        return ()


def _transport_error(request: RequestSummary, exc: httpx.TransportError, sends: int) -> FhirError:
    kind = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return FhirTimeoutError(
            f"{request}: no answer in time ({kind}, {sends} send(s))", request=request
        )
    return FhirTransportError(f"{request}: {kind} after {sends} send(s)", request=request)


def _json_body(request: RequestSummary, response: httpx.Response) -> Any:
    try:
        return orjson.loads(response.content)
    except ValueError as exc:
        raise FhirUnexpectedResponseError(
            f"{request}: answer is not JSON", request=request, response=_summary(response, 1)
        ) from exc


def _resource_body(
    request: RequestSummary, response: httpx.Response, resource_type: str
) -> dict[str, Any]:
    body = _json_body(request, response)
    if not isinstance(body, dict) or body.get("resourceType") != resource_type:
        issues = outcome_issues(body)
        found = body.get("resourceType") if isinstance(body, dict) else type(body).__name__
        error = FhirUnexpectedResponseError(
            f"{request}: expected {resource_type}, got {str(found)[:40]}",
            request=request,
            response=_summary(response, 1),
        )
        if issues:
            error.user_message += " The EHR said: " + "; ".join(i.text for i in issues)
        raise error
    return body


def _bundle_body(request: RequestSummary, response: httpx.Response) -> dict[str, Any]:
    return _resource_body(request, response, "Bundle")


def _search_entries(
    request: RequestSummary, response: httpx.Response, bundle: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """A searchset page's entries. One that cannot be read fails the search: skipping it would
    pass a partial chart off as the whole one (a missed anticoagulant, a missed allergy)."""
    entries = bundle.get("entry", [])
    checked: list[dict[str, Any]] = []
    problem = None
    if not isinstance(entries, list):
        problem = "Bundle.entry is not a list"
    else:
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                problem = f"Bundle.entry[{index}] is not an object"
            elif "resource" in entry and not isinstance(entry["resource"], dict):
                problem = f"Bundle.entry[{index}].resource is not an object"
            if problem is not None:
                break
            checked.append(entry)
    if problem is not None:
        raise FhirUnexpectedResponseError(
            f"{request}: {problem}", request=request, response=_summary(response, 1)
        )
    return checked


def _objects(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _next_link(bundle: Mapping[str, Any], base: str) -> str | None:
    for link in _objects(bundle.get("link")):
        relation = link.get("relation")
        url = link.get("url")
        if isinstance(relation, str) and relation.lower() == "next" and isinstance(url, str):
            # Some servers send relative links; they are relative to the FHIR base.
            return urljoin(base + "/", url.strip()) if url.strip() else None
    return None


def _write_result(
    request: RequestSummary, response: httpx.Response, resource_type: str
) -> WriteResult:
    location = response.headers.get("location") or response.headers.get("content-location")
    located_id, located_version = _parse_location(location, resource_type)
    resource: dict[str, Any] | None = None
    if response.content.strip():
        try:
            body = response.json()
        except ValueError:
            body = None
        # Some servers answer a create with an OperationOutcome (or nothing): no resource.
        if isinstance(body, dict) and body.get("resourceType") == resource_type:
            resource = body
    meta = resource.get("meta") if resource else None
    body_version = meta.get("versionId") if isinstance(meta, dict) else None
    etag = response.headers.get("etag")
    etag_match = _WEAK_ETAG.match(etag.strip()) if etag else None
    body_id = resource.get("id") if resource else None
    return WriteResult(
        status=response.status_code,
        id=located_id or (body_id if isinstance(body_id, str) else None),
        version=located_version
        or ((etag_match.group(1) or None) if etag_match else None)
        or (body_version if isinstance(body_version, str) else None),
        location=location,
        resource=resource,
    )


def _parse_location(location: str | None, resource_type: str) -> tuple[str | None, str | None]:
    """(id, version) from `[base]/[type]/[id]/_history/[vid]`, absolute or relative."""
    if not location:
        return None, None
    segments = [s for s in urlsplit(location).path.split("/") if s]
    if "_history" in segments:
        at = len(segments) - 1 - segments[::-1].index("_history")
        if at >= 2 and segments[at - 2] == resource_type and at + 1 < len(segments):
            return segments[at - 1], segments[at + 1]
        return None, None
    if len(segments) >= 2 and segments[-2] == resource_type:
        return segments[-1], None
    return None, None


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first
