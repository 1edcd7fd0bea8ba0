"""HTTP routes of the sandbox FHIR server under ``/fhir`` (the FHIR base and SMART `iss`)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from plugin.sandbox.behaviour import Interaction, SandboxRequest
from plugin.sandbox.faults import FHIR_JSON, serve_with_faults
from plugin.sandbox.fhir.access import Access, authenticate
from plugin.sandbox.fhir.bundles import (
    history_bundle,
    searchset_bundle,
    transaction_response_bundle,
)
from plugin.sandbox.fhir.capability import capability_statement
from plugin.sandbox.fhir.interactions import WriteResult, require_type
from plugin.sandbox.fhir.outcome import FhirError, Issue, operation_outcome
from plugin.sandbox.fhir.paging import PagePosition, SearchResult
from plugin.sandbox.fhir.store import StoredResource, instant
from plugin.sandbox.fhir.transaction import run_transaction
from plugin.sandbox.instance import SandboxEhr

__all__ = ["fhir_json", "fhir_router"]

_JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")


def fhir_json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False),
        status_code=status,
        headers={"Content-Type": FHIR_JSON, **(headers or {})},
    )


def _without_versions(response: Response) -> Response:
    """The response of a server that keeps no versions: no ETag, no versionId, no `_history`
    in locations."""
    headers = {
        k: v for k, v in response.headers.items() if k.lower() not in ("etag", "content-length")
    }
    if "location" in headers:
        headers["location"] = headers["location"].split("/_history/")[0]
    body = response.body
    if body:
        data = json.loads(bytes(body))
        _strip_versions(data)
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Response(body, status_code=response.status_code, headers=headers)


def _strip_versions(value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _strip_versions(item)
        return
    if not isinstance(value, dict):
        return
    meta = value.get("meta")
    if isinstance(meta, dict):
        meta.pop("versionId", None)
    value.pop("etag", None)  # a Bundle entry's response
    location = value.get("location")
    if isinstance(location, str):
        value["location"] = location.split("/_history/")[0]
    for item in value.values():
        _strip_versions(item)


def _drop_if_match(bundle: Any) -> None:
    """A transaction's `ifMatch` preconditions, ignored by a server that keeps no versions."""
    entries = bundle.get("entry") if isinstance(bundle, dict) else None
    for entry in entries if isinstance(entries, list) else ():
        request = entry.get("request") if isinstance(entry, dict) else None
        if isinstance(request, dict):
            request.pop("ifMatch", None)


def _error_response(error: FhirError) -> Response:
    return fhir_json(error.outcome(), error.status, error.headers)


def _prefer(request: Request) -> dict[str, str]:
    preferences: dict[str, str] = {}
    for part in request.headers.get("prefer", "").replace(";", ",").split(","):
        name, _, value = part.strip().partition("=")
        if name:
            preferences[name.strip().lower()] = value.strip().strip('"').lower()
    return preferences


def _http_date(fhir_instant: str) -> str:
    return format_datetime(datetime.fromisoformat(fhir_instant.replace("Z", "+00:00")), usegmt=True)


async def _json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in _JSON_TYPES:
        raise FhirError.single(
            415, "not-supported", "send FHIR JSON (Content-Type: application/fhir+json)"
        )
    raw = await request.body()
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FhirError.single(400, "structure", f"the body is not valid JSON: {exc}") from None


def fhir_router(sandbox: SandboxEhr) -> APIRouter:
    config = sandbox.config
    base = config.fhir_base

    async def ready() -> None:
        await sandbox.ready()

    router = APIRouter(prefix="/fhir", dependencies=[Depends(ready)], include_in_schema=False)

    def access_of(request: Request) -> Access:
        return authenticate(request.headers.get("authorization"), sandbox.records, base)

    async def serve(info: SandboxRequest, work: Callable[[], Awaitable[Response]]) -> Response:
        async def guarded() -> Response:
            try:
                response = await work()
            except FhirError as error:
                return _error_response(error)
            return response if sandbox.behaviour.versions else _without_versions(response)

        return await serve_with_faults(sandbox.behaviour.fault, info, guarded)

    def info(
        request: Request,
        interaction: Interaction,
        resource_type: str | None = None,
        resource_id: str | None = None,
        body: Any = None,
    ) -> SandboxRequest:
        return SandboxRequest(
            interaction=interaction,
            method=request.method,
            path=request.url.path.removeprefix("/fhir").lstrip("/"),
            resource_type=resource_type,
            resource_id=resource_id,
            # Credentials stay out of the hook: it sees what the request asks, not who asks.
            headers={k: v for k, v in request.headers.items() if k.lower() != "authorization"},
            body=body,
        )

    def self_url(request: Request) -> str:
        query = request.url.query
        return f"{config.base_url}{request.url.path}" + (f"?{query}" if query else "")

    def resource_response(
        request: Request, result: WriteResult | StoredResource, status: int | None = None
    ) -> Response:
        stored = result.stored if isinstance(result, WriteResult) else result
        headers = {"ETag": stored.etag, "Last-Modified": _http_date(stored.last_updated)}
        if isinstance(result, WriteResult):
            headers["Location"] = f"{base}/{stored.reference}/_history/{stored.version}"
            status = status or (201 if result.created else 200)
            preference = _prefer(request).get("return", sandbox.behaviour.default_return)
            if preference == "minimal":
                return Response(status_code=status, headers=headers)
            if preference == "operationoutcome":
                outcome = operation_outcome(
                    [Issue("informational", f"{stored.reference} stored", (), "information")]
                )
                return fhir_json(outcome, status, headers)
        return fhir_json(stored.body, status or 200, headers)

    def searchset(
        request: Request, access: Access, position: PagePosition, result: SearchResult,
        page: list[StoredResource], summary_count: bool = False,
    ) -> Response:  # fmt: skip
        next_url = None
        if position.has_next and not summary_count:
            token = sandbox.fhir.sessions.next_token(result, position.offset + position.count)
            next_url = f"{base}/{position.resource_type}?_getpages={token}"
        bundle = searchset_bundle(
            fhir_base=base,
            self_url=self_url(request),
            next_url=next_url,
            total=len(position.keys),
            page=[] if summary_count else page,
            now=instant(sandbox.now()),
        )
        return fhir_json(bundle)

    # -- capabilities ---------------------------------------------------------------------

    @router.get("/metadata")
    async def metadata(request: Request) -> Response:
        async def work() -> Response:
            return fhir_json(capability_statement(config, sandbox.behaviour, sandbox.started_at))

        return await serve(info(request, Interaction.CAPABILITIES), work)

    # -- transaction ----------------------------------------------------------------------

    @router.post("")
    @router.post("/")
    async def transaction(request: Request) -> Response:
        try:
            body = await _json_body(request)
        except FhirError as error:
            return _error_response(error)

        async def work() -> Response:
            access = access_of(request)
            if not sandbox.behaviour.transactions:
                raise FhirError.single(
                    400, "not-supported", "this server does not accept transaction Bundles"
                )
            if not sandbox.behaviour.versions:
                _drop_if_match(body)
            results = await run_transaction(sandbox.fhir, access, body)
            preference = _prefer(request).get("return", sandbox.behaviour.default_return)
            bundle = transaction_response_bundle(
                fhir_base=base,
                results=[(r.result.stored, r.result.created) for r in results],
                now=instant(sandbox.now()),
                representation=preference == "representation",
            )
            return fhir_json(bundle)

        return await serve(info(request, Interaction.TRANSACTION, body=body), work)

    # -- type level ---------------------------------------------------------------------

    @router.get("/{resource_type}")
    async def search(request: Request, resource_type: str) -> Response:
        async def work() -> Response:
            access = access_of(request)
            token = request.query_params.get("_getpages")
            if token is not None:
                require_type(resource_type)
                position, result = await sandbox.fhir.page(access, resource_type, token)
                page = await sandbox.fhir.page_resources(access, position)
                return searchset(request, access, position, result, page)
            lenient = _prefer(request).get("handling") == "lenient"
            query, position, result = await sandbox.fhir.search(
                access, resource_type, list(request.query_params.multi_items()), lenient=lenient
            )
            page = await sandbox.fhir.page_resources(access, position)
            return searchset(request, access, position, result, page, query.summary_count)

        return await serve(info(request, Interaction.SEARCH, resource_type), work)

    @router.post("/{resource_type}/_search")
    async def search_by_post(request: Request, resource_type: str) -> Response:
        form = await request.form()
        params = list(request.query_params.multi_items()) + [
            (k, v) for k, v in form.multi_items() if isinstance(v, str)
        ]

        async def work() -> Response:
            access = access_of(request)
            lenient = _prefer(request).get("handling") == "lenient"
            query, position, result = await sandbox.fhir.search(
                access, resource_type, params, lenient=lenient
            )
            page = await sandbox.fhir.page_resources(access, position)
            return searchset(request, access, position, result, page, query.summary_count)

        return await serve(info(request, Interaction.SEARCH, resource_type), work)

    @router.post("/{resource_type}")
    async def create(request: Request, resource_type: str) -> Response:
        try:
            body = await _json_body(request)
        except FhirError as error:
            return _error_response(error)

        async def work() -> Response:
            access = access_of(request)
            result = await sandbox.fhir.create(
                access, resource_type, body, request.headers.get("if-none-exist")
            )
            return resource_response(request, result)

        return await serve(info(request, Interaction.CREATE, resource_type, body=body), work)

    # -- instance level -----------------------------------------------------------------

    @router.get("/{resource_type}/{resource_id}")
    async def read(request: Request, resource_type: str, resource_id: str) -> Response:
        async def work() -> Response:
            stored = await sandbox.fhir.read(access_of(request), resource_type, resource_id)
            return resource_response(request, stored)

        return await serve(info(request, Interaction.READ, resource_type, resource_id), work)

    @router.put("/{resource_type}/{resource_id}")
    async def update(request: Request, resource_type: str, resource_id: str) -> Response:
        try:
            body = await _json_body(request)
        except FhirError as error:
            return _error_response(error)

        async def work() -> Response:
            access = access_of(request)
            result = await sandbox.fhir.update(
                access,
                resource_type,
                resource_id,
                body,
                request.headers.get("if-match") if sandbox.behaviour.versions else None,
            )
            return resource_response(request, result)

        return await serve(
            info(request, Interaction.UPDATE, resource_type, resource_id, body), work
        )

    @router.get("/{resource_type}/{resource_id}/_history")
    async def history(request: Request, resource_type: str, resource_id: str) -> Response:
        async def work() -> Response:
            versions = await sandbox.fhir.history(access_of(request), resource_type, resource_id)
            return fhir_json(
                history_bundle(fhir_base=base, versions=versions, now=instant(sandbox.now()))
            )

        return await serve(info(request, Interaction.HISTORY, resource_type, resource_id), work)

    @router.get("/{resource_type}/{resource_id}/_history/{version}")
    async def vread(
        request: Request, resource_type: str, resource_id: str, version: str
    ) -> Response:
        async def work() -> Response:
            stored = await sandbox.fhir.vread(
                access_of(request), resource_type, resource_id, version
            )
            return resource_response(request, stored)

        return await serve(info(request, Interaction.VREAD, resource_type, resource_id), work)

    @router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def unsupported(request: Request, path: str) -> Response:
        if request.method in ("DELETE", "PATCH"):
            error = FhirError.single(
                405, "not-supported", f"{request.method} is not supported by this server"
            )
        else:
            error = FhirError.single(404, "not-found", f"there is nothing at /fhir/{path}")
        return _error_response(error)

    return router
