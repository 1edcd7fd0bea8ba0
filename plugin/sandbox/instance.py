"""One running sandbox EHR: its store, authorization records, keys and behaviour, shared by
the FHIR, authorization and EHR page routes."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import httpx
from starlette.types import ASGIApp

from plugin.sandbox.auth.client_keys import ClientKeys
from plugin.sandbox.auth.id_token import IdTokenSigner
from plugin.sandbox.auth.records import (
    AccessToken,
    AuthorizationRecords,
    AuthorizationSubject,
    LaunchContext,
)
from plugin.sandbox.auth.server import SandboxAuthorizationServer
from plugin.sandbox.behaviour import SandboxBehaviour
from plugin.sandbox.cds.signing import CdsSigningKey
from plugin.sandbox.clock import Clock, system_clock
from plugin.sandbox.config import SandboxClient, SandboxConfig
from plugin.sandbox.fhir.interactions import FhirInteractions
from plugin.sandbox.fhir.paging import SearchSessions
from plugin.sandbox.fhir.references import patient_reference_ids
from plugin.sandbox.fhir.search import parse_search, sort_resources
from plugin.sandbox.fhir.store import ResourceStore, instant
from plugin.sandbox.synthetic_patients import synthetic_resources

__all__ = ["SandboxEhr"]


class SandboxEhr:
    """The sandbox's state. `clock` and `behaviour` may be replaced while it runs (tests)."""

    def __init__(self, config: SandboxConfig, *, clock: Clock = system_clock) -> None:
        self.config = config
        self.clock = clock
        self.behaviour: SandboxBehaviour = config.behaviour
        self.asgi_app: ASGIApp | None = (
            None  # the app serving the sandbox; set by create_sandbox_app
        )
        self.store = ResourceStore(config.database_file)
        self.records = AuthorizationRecords(clock=self.now)
        self.signer = IdTokenSigner.from_file(config.signing_key_file)
        self.client_keys = ClientKeys(config.base_url, self._own_app, self.now)
        self.auth_server = SandboxAuthorizationServer(
            config, self.records, self.client_keys, self.signer, self.now
        )
        self.fhir = FhirInteractions(
            self.store, SearchSessions(self.now), config.fhir_base, self.now, self._behaviour
        )
        #: The key signing the EHR's CDS Hooks calls (created on first run).
        self.cds_key: CdsSigningKey | None = (
            CdsSigningKey.ensure(config.cds_client.signing_key_file)
            if config.cds_client is not None
            else None
        )
        #: Routes the EHR's CDS Hooks calls to the app it hosts, in-process; None: network.
        self.cds_transport: httpx.AsyncBaseTransport | None = None
        self.started_at = instant(self.now())
        self._ready = False
        self._ready_lock = asyncio.Lock()

    def now(self) -> datetime:
        return self.clock()

    def _behaviour(self) -> SandboxBehaviour:
        return self.behaviour

    def own_app(self) -> ASGIApp:
        """The ASGI app serving this sandbox (to call its own FHIR server in-process)."""
        return self._own_app()

    def _own_app(self) -> ASGIApp:
        if self.asgi_app is None:
            raise RuntimeError("the sandbox is not being served by an ASGI app")
        return self.asgi_app

    # -- lifecycle ------------------------------------------------------------------------

    async def ready(self) -> None:
        """Open the store and load the synthetic charts, once (safe to call on every request:
        an app driven without lifespan events, as in tests, starts on first use)."""
        if self._ready:
            return
        async with self._ready_lock:
            if not self._ready:
                await self.store.open()
                await self.reset()
                self._ready = True

    async def reset(self) -> None:
        """Replace every resource with freshly dated synthetic charts."""
        now = self.now()
        base = self.config.fhir_base
        charts = [
            (resource, next(iter(patient_reference_ids(resource, base)), None))
            for resource in synthetic_resources(now.date())
        ]
        async with self.store.transaction() as writer:
            await writer.clear()
            await writer.load(charts, now)

    async def close(self) -> None:
        await self.store.close()
        self._ready = False

    # -- the EHR's side of a launch -----------------------------------------------------

    def app_client(self) -> SandboxClient | None:
        """The app the EHR page launches: the first registered client with a launch URL."""
        return next((c for c in self.config.clients if c.launch_url), None)

    async def current_encounter(self, patient_id: str) -> str | None:
        """The patient's open (in-progress) encounter, else the most recent one."""
        await self.ready()
        candidates = await self.store.candidates("Encounter", patient_id)
        query = parse_search("Encounter", [("_sort", "-date")], self.config.fhir_base)
        ordered = sort_resources(query, [c.body for c in candidates])
        open_ones = [e for e in ordered if e.get("status") == "in-progress"]
        chosen = open_ones or ordered
        return str(chosen[0]["id"]) if chosen else None

    async def launch(
        self, client_id: str, patient_id: str, user: str, app_context: str | None = None
    ) -> LaunchContext:
        """Create an EHR launch context (what the EHR does when the user opens the app);
        `app_context` is a CDS card link's, handed to the app in the token response."""
        encounter = await self.current_encounter(patient_id)
        return self.records.create_launch(
            client_id,
            patient_id,
            encounter,
            user,
            timedelta(seconds=self.config.launch_seconds),
            app_context=app_context,
        )

    def issue_access_token(
        self,
        client_id: str,
        scope: str,
        *,
        patient: str | None = None,
        encounter: str | None = None,
        user: str | None = None,
        lifetime: timedelta | None = None,
    ) -> AccessToken:
        """An access token granted directly, without the OAuth dance — for tools and tests
        that exercise the FHIR server alone. The token works exactly like an issued one."""
        subject = AuthorizationSubject(user or self.config.default_user, patient, encounter)
        grant = self.records.new_grant(client_id, subject, scope)
        return self.records.issue_access_token(
            grant, scope, lifetime or timedelta(seconds=self.config.access_token_seconds)
        )
