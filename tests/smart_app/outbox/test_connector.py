"""The production connector: the item's sealed session, through the app's services."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from smart_app.outbox import SessionChartConnector, SessionRefs, SignInRequiredError
from smart_app.outbox.connector import document_content_types
from smart_app.scopes import LaunchKind
from smart_app.services import build_services
from smart_app.session import SmartSession
from smart_app.settings import EhrRegistration, Settings
from smart_app.token_encryption import TokenCipher
from tests.smart_app.conftest import FakeClock, registration
from tests.smart_app.fake_ehr import FHIR_BASE
from tests.smart_app.outbox.conftest import OWNER, Outbox


def test_a_sealed_session_id_opens_only_with_the_key() -> None:
    refs = SessionRefs(TokenCipher([Fernet.generate_key()]))
    sealed = refs.seal("secret-session")
    assert b"secret-session" not in sealed
    assert refs.open(sealed) == "secret-session"
    assert SessionRefs(TokenCipher([Fernet.generate_key()])).open(sealed) is None
    assert refs.open(None) is None


def test_notes_carry_a_pdf_only_where_registered() -> None:
    assert document_content_types(registration()) == frozenset({"text/plain"})
    assert document_content_types(registration(document_pdf=True)) == frozenset(
        {"text/plain", "application/pdf"}
    )


async def test_the_connector_opens_the_items_session(
    sqlite_outbox: Outbox, make_settings: Callable[..., Settings], clock: FakeClock
) -> None:
    settings = make_settings(registration(write_mode="per-resource"))
    services = build_services(settings, transport=None, clock=clock)
    try:
        session = SmartSession(
            iss=FHIR_BASE,
            ehr_name="Test EHR",
            launch_kind=LaunchKind.EHR,
            patient="lumbar-candidate",
            granted_scope="launch patient/DocumentReference.cu patient/Observation.rs",
            access_token=SecretStr("a"),
            fhir_user=OWNER.user_id,
            csrf_token=SecretStr("c"),
        )
        session_id = await services.sessions.start(session)
        refs = sqlite_outbox.refs
        connector = SessionChartConnector(services, refs)
        signed = await sqlite_outbox.sign()
        item = await sqlite_outbox.store.item(signed.item_id)
        assert item is not None
        with pytest.raises(SignInRequiredError):  # sealed with a session of another store
            await connector.open(item)
        item = dataclasses.replace(item, iss=FHIR_BASE, session_ref=refs.seal(session_id))
        chart = await connector.open(item)
        assert chart.write_mode == "per-resource"
        assert chart.access.create == frozenset({"DocumentReference"})
        assert chart.access.update == frozenset({"DocumentReference"})
        assert chart.access.search == frozenset({"Observation"})
        assert chart.client.base_url == FHIR_BASE
        assert chart.client.policy.max_attempts == 1  # the outbox does the retrying
        await services.sessions.end(session_id)
        with pytest.raises(SignInRequiredError):
            await connector.open(item)
    finally:
        await services.aclose()


async def test_a_session_of_another_patient_or_user_does_not_write_the_item(
    sqlite_outbox: Outbox, make_settings: Callable[..., Settings], clock: FakeClock
) -> None:
    """Its token is scoped to another launch: the write would be refused, and what an
    earlier attempt filed would be invisible to reconciliation. The item waits instead."""
    services = build_services(make_settings(registration()), transport=None, clock=clock)
    try:
        signed = await sqlite_outbox.sign()
        item = await sqlite_outbox.store.item(signed.item_id)
        assert item is not None
        for other in ({"patient": "cervical-candidate"}, {"fhir_user": "Practitioner/other"}):
            session = SmartSession(
                iss=FHIR_BASE,
                ehr_name="Test EHR",
                launch_kind=LaunchKind.EHR,
                patient="lumbar-candidate",
                granted_scope="launch patient/*.cruds",
                access_token=SecretStr("a"),
                fhir_user=OWNER.user_id,
                csrf_token=SecretStr("c"),
            ).model_copy(update=other)
            session_id = await services.sessions.start(session)
            theirs = dataclasses.replace(
                item, iss=FHIR_BASE, session_ref=sqlite_outbox.refs.seal(session_id)
            )
            connector = SessionChartConnector(services, sqlite_outbox.refs)
            with pytest.raises(SignInRequiredError):
                await connector.open(theirs)
    finally:
        await services.aclose()


def test_a_registration_says_text_only_unless_told_otherwise() -> None:
    plain = EhrRegistration(name="x", iss="https://e.example/fhir", client_id="c")
    assert plain.document_pdf is False
