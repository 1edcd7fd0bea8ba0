"""One CDS Hooks exchange of the sandbox EHR with the CDS service: discovery, the prefetch
the chosen service's templates ask for (read from the sandbox's own FHIR server), and the
call. Every request carries a fresh signed JWT whose `aud` is the URL it is sent to.

Nothing here logs: the request and the cards carry the patient's chart."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from plugin.sandbox.cds.prefetch import prefetch_from_store
from plugin.sandbox.cds.request import (
    DiscographyOrder,
    FhirAuthorization,
    draft_service_request,
    hook_context,
    hook_request,
)
from plugin.sandbox.cds.signing import CdsSigningKey
from plugin.sandbox.config import SandboxCdsClient
from plugin.sandbox.instance import SandboxEhr

__all__ = [
    "CALL_TIMEOUT",
    "CDS_SCOPE",
    "CdsCallError",
    "CdsExchange",
    "call_cds_service",
    "outcome_text",
]

#: Read and search access to the patient's chart: what the services' usageRequirements ask.
CDS_SCOPE = "patient/*.rs"
_TOKEN_SECONDS = 300
#: How long the sandbox waits on the CDS service (each call: discovery, service, feedback).
CALL_TIMEOUT = httpx.Timeout(10.0, connect=2.0)


class CdsCallError(Exception):
    """The exchange stopped before the service answered (discovery failed, no such hook)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(slots=True)
class CdsExchange:
    """What was sent and what came back; `error` when the service refused the call."""

    service_id: str
    service_title: str
    request: dict[str, Any]
    status: int
    response: dict[str, Any] | None = None
    error: str | None = None
    prefetch_keys: list[str] = field(default_factory=list)


def outcome_text(response: httpx.Response) -> str:
    """The OperationOutcome's issue texts (CDS Hooks 2.0 §Error handling), else the status."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        texts = [
            str((issue.get("details") or {}).get("text") or issue.get("diagnostics") or "")
            for issue in body.get("issue", [])
            if isinstance(issue, dict)
        ]
        joined = "; ".join(t for t in texts if t)
        if joined:
            return joined
    return f"HTTP {response.status_code}"


class _Exchange:
    def __init__(
        self,
        sandbox: SandboxEhr,
        client: SandboxCdsClient,
        key: CdsSigningKey,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        self.sandbox = sandbox
        self.client = client
        self.key = key
        self.transport = transport

    def _headers(self, url: str) -> dict[str, str]:
        return self.key.headers(self.client.issuer, url, self.sandbox.now().timestamp())

    async def discover(self, http: httpx.AsyncClient) -> list[dict[str, Any]]:
        url = self.client.services_url
        try:
            response = await http.get(url, headers=self._headers(url))
        except httpx.HTTPError as exc:
            raise CdsCallError(
                f"The CDS service cannot be reached ({type(exc).__name__})."
            ) from None
        if response.status_code != 200:
            raise CdsCallError(
                f"Discovery failed: {outcome_text(response)}", status=response.status_code
            )
        try:
            services = response.json().get("services")
        except (ValueError, AttributeError):
            services = None
        if not isinstance(services, list):
            raise CdsCallError("Discovery did not answer a services list.", response.status_code)
        return [s for s in services if isinstance(s, dict)]

    async def run(self, order: DiscographyOrder) -> CdsExchange:
        async with httpx.AsyncClient(
            transport=self.transport, timeout=CALL_TIMEOUT, follow_redirects=False
        ) as http:
            services = await self.discover(http)
            service = next((s for s in services if s.get("hook") == order.hook.value), None)
            if service is None or not isinstance(service.get("id"), str):
                raise CdsCallError(f"The CDS service offers no {order.hook.value} service.")
            app = self.sandbox.app_client()
            if app is None:
                raise CdsCallError("No SMART app is registered to receive fhirAuthorization.")
            access = self.sandbox.issue_access_token(
                app.client_id,
                CDS_SCOPE,
                patient=order.patient_id,
                user=order.user_id,
                lifetime=timedelta(seconds=_TOKEN_SECONDS),
            )
            draft = draft_service_request(order, str(uuid.uuid4()))
            encounter = await self.sandbox.current_encounter(order.patient_id)
            context = hook_context(order, draft, encounter)
            templates = service.get("prefetch") or {}
            if order.send_prefetch and isinstance(templates, dict):
                prefetch: dict[str, Any] | None = await prefetch_from_store(
                    self.sandbox, templates, context, access.token
                )
                fhir_server, authorization = None, None
            else:
                prefetch = None
                fhir_server = self.sandbox.config.fhir_base
                authorization = FhirAuthorization(
                    access.token,
                    "Bearer",
                    _TOKEN_SECONDS,
                    CDS_SCOPE,
                    app.client_id,
                    order.patient_id,
                )
            body = hook_request(
                order,
                context,
                prefetch=prefetch,
                fhir_server=fhir_server,
                authorization=authorization,
            )
            url = f"{self.client.services_url}/{service['id']}"
            try:
                response = await http.post(url, json=body, headers=self._headers(url))
            except httpx.HTTPError as exc:
                raise CdsCallError(
                    f"The CDS service cannot be reached ({type(exc).__name__})."
                ) from None
        exchange = CdsExchange(
            service_id=service["id"],
            service_title=str(service.get("title") or service["id"]),
            request=body,
            status=response.status_code,
            prefetch_keys=sorted(prefetch or {}),
        )
        parsed: Any = None
        try:
            parsed = response.json()
        except ValueError:
            parsed = None
        if response.status_code == 200 and isinstance(parsed, dict):
            exchange.response = parsed
        else:
            exchange.error = outcome_text(response)
        return exchange


async def call_cds_service(
    sandbox: SandboxEhr,
    order: DiscographyOrder,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> CdsExchange:
    """Discover the service for `order.hook` and call it. `transport` routes the HTTP to the
    app in-process (the sandbox hosting it); None uses the network. Raises CdsCallError."""
    client, key = sandbox.config.cds_client, sandbox.cds_key
    if client is None or key is None:
        raise CdsCallError("This sandbox is not registered as a CDS client of any service.")
    return await _Exchange(sandbox, client, key, transport).run(order)
