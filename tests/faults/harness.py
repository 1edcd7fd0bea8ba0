"""An app and a sandbox EHR in one process, wired as in production, for write-back tests.

The SMART app's services (session store, token refresh against the sandbox's token endpoint,
capability cache) talk to the sandbox through httpx's ASGITransport wrapped in a
`FaultTransport`, which can break the connection before a request reaches the sandbox or
after the sandbox has committed it. The sandbox's own fault hook answers 5xx / 429 / 503 with
Retry-After, before or after committing. Time is a fake clock; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from plugin.fhir_mapping.identifiers import IDENTIFIER_SYSTEM
from plugin.sandbox.app import create_sandbox_app, sandbox_of
from plugin.sandbox.auth.records import AuthorizationSubject, Grant
from plugin.sandbox.behaviour import Fault, SandboxBehaviour, SandboxRequest
from plugin.sandbox.config import SandboxClient, SandboxConfig
from plugin.sandbox.instance import SandboxEhr
from plugin.writeback import WritePlan
from smart_app.drafts import DraftOwner, DraftStore
from smart_app.fhir_client import RetryPolicy
from smart_app.outbox import (
    OutboxItem,
    OutboxStore,
    OutboxWorker,
    RetrySchedule,
    SessionChartConnector,
    SessionRefs,
    SignedVersion,
    SigningService,
)
from smart_app.scopes import LaunchKind
from smart_app.services import SmartServices, build_services
from smart_app.session import SmartSession
from smart_app.settings import EhrRegistration, Settings
from smart_app.token_encryption import TokenCipher, secret_key_path
from tests.smart_app.conftest import FakeClock
from tests.writeback.studies import library, lumbar_study

SANDBOX = "http://127.0.0.1:8000"
FHIR = f"{SANDBOX}/fhir"
APP = "http://127.0.0.1:9000"
CLIENT_ID = "discogram-app"
PATIENT = "lumbar-candidate"
USER = "spine-proceduralist"
FULL_SCOPE = "launch openid fhirUser offline_access patient/*.cruds"

#: Sandbox behaviours like the EHRs of shared/standards.md §5.
BEHAVIOURS: dict[str, dict[str, Any]] = {
    "full": {},
    "per-resource": {"transactions": False},
    "document": {
        "transactions": False,
        "conditional_create": False,
        "refuse_create": frozenset({"DiagnosticReport"}),
        "default_return": "minimal",
    },
}


class Break(StrEnum):
    """Transport faults (`FaultTransport`)."""

    CONNECT = "connect-error"  # never reaches the EHR
    DROP_BEFORE = "dropped-before-commit"  # connection dropped before the EHR processed it
    DROP_AFTER = "dropped-after-commit"  # the EHR committed; the connection then dropped
    TIMEOUT_AFTER = "timeout-after-commit"  # the EHR committed; the answer never came


class FaultTransport(httpx.AsyncBaseTransport):
    """Forwards to the sandbox, unless `decide(request)` names a `Break`."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.decide: Callable[[httpx.Request], Break | None] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        fault = self.decide(request) if self.decide is not None else None
        if fault is Break.CONNECT:
            raise httpx.ConnectError("connection refused (injected)", request=request)
        if fault is Break.DROP_BEFORE:
            raise httpx.RemoteProtocolError("server disconnected (injected)", request=request)
        response = await self.inner.handle_async_request(request)
        if fault is None:
            return response
        await response.aread()  # the EHR has done the work and committed
        await response.aclose()
        if fault is Break.TIMEOUT_AFTER:
            raise httpx.ReadTimeout("read timed out (injected)", request=request)
        raise httpx.RemoteProtocolError("server disconnected (injected)", request=request)


async def _no_sleep(_: float) -> None:
    return None


@dataclass
class WriteBackRig:
    """The pieces of one test: sandbox, services, session, drafts, signing, outbox."""

    ehr: SandboxEhr
    transport: FaultTransport
    clock: FakeClock
    services: SmartServices
    refs: SessionRefs
    drafts: DraftStore
    signing: SigningService
    store: OutboxStore
    grant: Grant
    session_id: str
    hooks: list[Callable[[SandboxRequest], Fault | None]] = field(default_factory=list)

    @property
    def owner(self) -> DraftOwner:
        return DraftOwner(FHIR, PATIENT, f"Practitioner/{USER}")

    def behave(self, name: str, **extra: Any) -> None:
        """Make the sandbox behave like the EHR `name` of BEHAVIOURS (its hook kept)."""
        self.ehr.behaviour = SandboxBehaviour(**{**BEHAVIOURS[name], **extra}, fault=self._hook)

    def _hook(self, request: SandboxRequest) -> Fault | None:
        for hook in self.hooks:
            fault = hook(request)
            if fault is not None:
                return fault
        return None

    def worker(self, owner: str | None = None, **kwargs: Any) -> OutboxWorker:
        policy = RetryPolicy(max_attempts=1, sleep=_no_sleep, clock=self.clock, jitter=lambda: 0.5)
        return OutboxWorker(
            self.store,
            SessionChartConnector(self.services, self.refs, policy=policy),
            owner=owner,
            schedule=RetrySchedule(base=1.0, cap=60.0, jitter=lambda: 0.5),
            sleep=_no_sleep,
            **kwargs,
        )

    async def sign(self, **study_changes: Any) -> SignedVersion:
        """Sign a new study (the drafts give it its own id)."""
        draft = await self.drafts.create(self.owner, lumbar_study() | study_changes)
        assert not draft.problems, draft.problems
        return await self.signing.sign(
            self.owner, draft.id, revision=draft.revision, session_id=self.session_id
        )

    async def item(self, item_id: str) -> OutboxItem:
        item = await self.store.item(item_id)
        assert item is not None
        return item

    async def plan(self, item_id: str) -> WritePlan:
        item = await self.item(item_id)
        assert item.plan_json is not None
        return WritePlan.model_validate_json(item.plan_json)

    async def due(self) -> None:
        """Move the fake clock to the next scheduled retry (if it is in the future)."""
        items = await self.store.items_for_patient(FHIR, PATIENT)
        later = [
            i.next_attempt_at
            for i in items
            if i.state.value == "queued" and i.next_attempt_at > self.clock()
        ]
        if later:
            self.clock.now = min(later)

    async def drain(self, *workers: OutboxWorker, rounds: int = 50) -> None:
        """Run the workers (concurrently) until nothing is queued or writing."""
        for _ in range(rounds):
            await asyncio.gather(*(w.run_once() for w in workers))
            items = await self.store.items_for_patient(FHIR, PATIENT)
            if not any(i.state.value in ("queued", "writing") for i in items):
                return
            await self.due()
        items = await self.store.items_for_patient(FHIR, PATIENT)
        stuck = Counter(
            (i.state.value, i.last_error) for i in items if i.state.value in ("queued", "writing")
        )
        raise AssertionError(f"the outbox did not settle: {dict(stuck)}")

    async def chart_copies(self, plan: WritePlan) -> dict[str, list[str]]:
        """Per resource the plan writes (creates), the ids the chart holds for it."""
        found: dict[str, list[str]] = {}
        for step in plan.steps:
            if step.action.value != "create":
                continue
            parameter, token = step.search
            found[step.key] = [
                str(r["id"]) for r in await self.chart(step.resource_type, **{parameter: token})
            ]
        return found

    async def our_resources(self) -> Counter[tuple[str, str]]:
        """Every resource in the chart carrying one of the product's identifiers (or tags),
        counted per (type, identifier value)."""
        counts: Counter[tuple[str, str]] = Counter()
        for resource_type in ("Procedure", "Observation", "DiagnosticReport", "DocumentReference"):
            for resource in await self.chart(resource_type, patient=PATIENT):
                for identifier in resource.get("identifier", []):
                    if identifier.get("system") == IDENTIFIER_SYSTEM:
                        counts[(resource_type, identifier["value"])] += 1
        for resource in await self.chart("Provenance", _tag=f"{IDENTIFIER_SYSTEM}|"):
            for tag in resource.get("meta", {}).get("tag", []):
                if tag.get("system") == IDENTIFIER_SYSTEM:
                    counts[("Provenance", tag["code"])] += 1
        return counts

    async def chart(self, resource_type: str, **params: str) -> list[dict[str, Any]]:
        """Search the sandbox directly (no faults, an all-seeing token)."""
        token = self.ehr.issue_access_token(CLIENT_ID, "user/*.rs", patient=PATIENT).token
        found: list[dict[str, Any]] = []
        async with httpx.AsyncClient(
            transport=self.transport.inner, base_url=SANDBOX, timeout=30
        ) as http:
            url: str | None = f"/fhir/{resource_type}"
            query: dict[str, str] | None = {**params, "_count": "200"}
            while url is not None:
                response = await http.get(
                    url, params=query, headers={"Authorization": f"Bearer {token}"}
                )
                assert response.status_code == 200, response.text
                bundle = response.json()
                found.extend(e["resource"] for e in bundle.get("entry", []))
                url = next(
                    (link["url"] for link in bundle.get("link", []) if link["relation"] == "next"),
                    None,
                )
                query = None
        return found

    async def copies(self, resource_type: str, search: str, token: str) -> int:
        return len(await self.chart(resource_type, **{search: token}))

    async def new_session(self, scope: str = FULL_SCOPE) -> str:
        """A fresh sign-in of the same user (as at the next launch)."""
        self.grant, session_id = await _session(self.ehr, self.services, self.clock, scope)
        return session_id

    async def close(self) -> None:
        await self.services.aclose()
        await self.ehr.close()


async def _session(
    ehr: SandboxEhr, services: SmartServices, clock: FakeClock, scope: str
) -> tuple[Grant, str]:
    subject = AuthorizationSubject(USER, PATIENT, "lumbar-candidate-enc-02")
    grant = ehr.records.new_grant(CLIENT_ID, subject, scope)
    access = ehr.records.issue_access_token(grant, scope, timedelta(hours=1))
    refresh = ehr.records.issue_refresh_token(grant, scope, timedelta(days=30))
    session = SmartSession(
        iss=FHIR,
        ehr_name="Sandbox EHR",
        launch_kind=LaunchKind.EHR,
        patient=PATIENT,
        encounter="lumbar-candidate-enc-02",
        granted_scope=scope,
        access_token=SecretStr(access.token),
        refresh_token=SecretStr(refresh.token),
        access_expires_at=clock() + 3600,
        fhir_user=f"Practitioner/{USER}",
        user_name="Spine-Proceduralist Testdoctor",
        csrf_token=SecretStr(secrets.token_urlsafe(16)),
    )
    return grant, await services.sessions.start(session)


async def make_rig(
    tmp_path: Path,
    signing_key_file: Path,
    *,
    strategy: str = "full",
    write_mode: str = "auto",
    scope: str = FULL_SCOPE,
    database_url: str | None = None,
    document_pdf: bool = False,
) -> WriteBackRig:
    clock = FakeClock()
    config = SandboxConfig(
        base_url=SANDBOX,
        signing_key_file=signing_key_file,
        clients=[SandboxClient(client_id=CLIENT_ID, redirect_uris=[f"{APP}/callback"])],
    )
    sandbox_app = create_sandbox_app(config)
    ehr = sandbox_of(sandbox_app)
    transport = FaultTransport(httpx.ASGITransport(app=sandbox_app))
    settings = Settings(
        public_url=APP,
        data_dir=tmp_path,
        database_url=database_url or f"sqlite+aiosqlite:///{tmp_path / 'app.sqlite3'}",
        ehr=[
            EhrRegistration(
                name="Sandbox EHR",
                iss=FHIR,
                client_id=CLIENT_ID,
                write_mode=write_mode,
                document_pdf=document_pdf,
            )
        ],
    )
    services = build_services(settings, transport=transport, clock=clock)
    refs = SessionRefs(TokenCipher.from_key_file(secret_key_path(settings)))
    drafts = DraftStore(services.database, clock=clock, library=library())
    store = OutboxStore(services.database, clock=clock)
    signing = SigningService(services.database, drafts, clock=clock, library=library(), refs=refs)
    await ehr.ready()
    grant, session_id = await _session(ehr, services, clock, scope)
    rig = WriteBackRig(
        ehr, transport, clock, services, refs, drafts, signing, store, grant, session_id
    )
    rig.behave(strategy)
    return rig
