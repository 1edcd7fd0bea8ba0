"""Serving a request through the fault-injection hook of `SandboxBehaviour`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

from starlette.responses import Response

from plugin.sandbox.behaviour import CannedResponse, FaultHook, SandboxRequest

__all__ = ["FHIR_JSON", "serve_with_faults"]

FHIR_JSON = "application/fhir+json; charset=utf-8"


def _canned(canned: CannedResponse) -> Response:
    if canned.body is None:
        return Response(status_code=canned.status, headers=canned.headers)
    headers = {"Content-Type": FHIR_JSON, **canned.headers}
    return Response(json.dumps(canned.body), status_code=canned.status, headers=headers)


async def serve_with_faults(
    hook: FaultHook | None,
    request: SandboxRequest,
    serve: Callable[[], Awaitable[Response]],
) -> Response:
    """Serve normally, unless the hook returns a fault: then wait, answer instead, or serve
    (committing the work) and answer instead."""
    fault = hook(request) if hook is not None else None
    if fault is None:
        return await serve()
    if fault.delay_seconds:
        await asyncio.sleep(fault.delay_seconds)
    if fault.respond is not None:
        return _canned(fault.respond)
    response = await serve()
    if fault.after_commit is not None:
        return _canned(fault.after_commit)
    return response
