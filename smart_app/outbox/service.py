"""The drafts, signing, outbox and worker of one app, built from its services.

Wire it into the app's lifespan::

    outbox = build_outbox(services)
    app.state.outbox = outbox
    async with outbox.running():
        yield

and, at every successful launch (the OAuth callback), give the user's waiting reports for that
patient the new session: ``await outbox.resume_for_session(session_id, session)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from plugin.interpretation.rule_set import default_rule_sets
from smart_app.drafts import DraftOwner, DraftStore
from smart_app.outbox.connector import SessionChartConnector, SessionRefs
from smart_app.outbox.failures import RetrySchedule
from smart_app.outbox.signing import SigningService
from smart_app.outbox.store import OutboxStore
from smart_app.outbox.worker import OutboxWorker
from smart_app.services import SmartServices
from smart_app.session import SmartSession
from smart_app.token_encryption import TokenCipher, secret_key_path

__all__ = ["OutboxService", "build_outbox"]


@dataclass(slots=True)
class OutboxService:
    drafts: DraftStore
    signing: SigningService
    store: OutboxStore
    worker: OutboxWorker
    refs: SessionRefs

    async def resume_for_session(self, session_id: str, session: SmartSession) -> int:
        """After a launch: the user's reports for the launch's patient that wait for sign-in
        are sent with this session (other patients' reports wait for a launch of their own).
        A user the EHR did not identify has none: drafts cannot be signed without a user."""
        owner = DraftOwner.of_identified_session(session)
        if owner is None:
            return 0
        resumed = await self.store.resume_for_launch(
            owner.iss, owner.patient_id, owner.user_id, self.refs.seal(session_id)
        )
        if resumed:
            self.worker.wake()
        return resumed

    @asynccontextmanager
    async def running(self) -> AsyncIterator[OutboxService]:
        """The worker runs while the context is open (the app's lifespan)."""
        self.worker.start()
        try:
            yield self
        finally:
            await self.worker.stop()


def build_outbox(
    services: SmartServices, *, schedule: RetrySchedule | None = None
) -> OutboxService:
    """The outbox of an app. Raises ConfigurationError / RuleSetInvalidError for an unusable
    secret key file or site rule-set file."""
    settings = services.settings
    library = default_rule_sets().with_site_files(settings.rule_set_files)
    refs = SessionRefs(TokenCipher.from_key_file(secret_key_path(settings)))
    drafts = DraftStore(services.database, clock=services.clock, library=library)
    store = OutboxStore(services.database, clock=services.clock)
    worker = OutboxWorker(store, SessionChartConnector(services, refs), schedule=schedule)
    signing = SigningService(
        services.database,
        drafts,
        clock=services.clock,
        library=library,
        refs=refs,
        on_signed=worker.wake,
    )
    return OutboxService(drafts, signing, store, worker, refs)
