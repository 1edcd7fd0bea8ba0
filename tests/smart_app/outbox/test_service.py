"""The outbox of an app, built from its services: lifespan and resumption at launch."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import SecretStr

from smart_app.drafts import DraftOwner
from smart_app.outbox import ItemState, build_outbox
from smart_app.scopes import LaunchKind
from smart_app.services import build_services
from smart_app.session import SmartSession
from smart_app.settings import Settings
from tests.smart_app.conftest import FakeClock
from tests.smart_app.fake_ehr import FHIR_BASE
from tests.writeback.studies import lumbar_study


def session() -> SmartSession:
    return SmartSession(
        iss=FHIR_BASE,
        ehr_name="Test EHR",
        launch_kind=LaunchKind.EHR,
        patient="lumbar-candidate",
        granted_scope="launch patient/*.cruds",
        access_token=SecretStr("a"),
        fhir_user="Practitioner/spine-proceduralist",
        csrf_token=SecretStr("c"),
    )


async def test_signing_waiting_and_resuming_at_the_next_launch(
    make_settings: Callable[..., Settings], clock: FakeClock
) -> None:
    services = build_services(make_settings(), transport=None, clock=clock)
    outbox = build_outbox(services)
    try:
        owner = DraftOwner.of_session(session())
        draft = await outbox.drafts.create(owner, lumbar_study())
        signed = await outbox.signing.sign(
            owner, draft.id, revision=draft.revision, session_id="gone-session"
        )
        (attempt,) = await outbox.worker.run_once()  # the session does not exist
        assert attempt.state is ItemState.WAITING_FOR_SIGN_IN
        session_id = await services.sessions.start(session())
        assert await outbox.resume_for_session(session_id, session()) == 1
        item = await outbox.store.item(signed.item_id)
        assert item is not None and item.state is ItemState.QUEUED
        assert outbox.refs.open(item.session_ref) == session_id
        async with outbox.running() as running:
            assert running is outbox
    finally:
        await services.aclose()
