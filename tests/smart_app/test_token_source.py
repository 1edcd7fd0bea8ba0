"""Refresh before expiry, after a 401, single use of refresh tokens."""

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from smart_app.errors import SessionExpiredError, SessionMissingError
from smart_app.fhir_errors import TokenRefreshUnavailableError
from smart_app.services import SmartServices
from smart_app.session import SessionService
from smart_app.store import Database
from smart_app.store.sessions import SessionStore
from smart_app.token_encryption import TokenCipher, secret_key_path
from smart_app.token_source import (
    REFRESH_CLAIM_SECONDS,
    REFRESH_MARGIN_SECONDS,
    SessionTokenSource,
)
from tests.smart_app.conftest import FakeClock, complete_launch, session_id_of
from tests.smart_app.fake_ehr import FakeEhr


async def launched(
    client: httpx.AsyncClient, ehr: FakeEhr, app: FastAPI
) -> tuple[SmartServices, str]:
    response = await complete_launch(client, ehr)
    assert response.status_code == 303
    session_id = session_id_of(client)
    return app.state.smart, session_id


async def test_a_valid_token_is_used_as_is(
    client: httpx.AsyncClient, ehr: FakeEhr, app: FastAPI
) -> None:
    services, session_id = await launched(client, ehr, app)
    token = await services.token_source(session_id).access_token()
    assert token == ehr.issued[0]["access_token"]
    assert len(ehr.token_requests) == 1  # only the code exchange


async def test_expiring_token_is_refreshed_and_the_refresh_token_replaced(
    client: httpx.AsyncClient, ehr: FakeEhr, app: FastAPI, clock: FakeClock
) -> None:
    services, session_id = await launched(client, ehr, app)
    first = ehr.issued[0]
    clock.advance(ehr.expires_in - REFRESH_MARGIN_SECONDS + 1)
    token = await services.token_source(session_id).access_token()
    assert token == ehr.issued[1]["access_token"] != first["access_token"]
    refresh_request = ehr.token_requests[1]
    assert refresh_request["grant_type"] == "refresh_token"
    assert refresh_request["refresh_token"] == first["refresh_token"]
    assert refresh_request["client_id"] == ehr.client_id  # public client authenticates
    assert "scope" not in refresh_request
    # The next refresh spends the new refresh token, not the old one.
    clock.advance(ehr.expires_in)
    await services.token_source(session_id).access_token()
    assert ehr.token_requests[2]["refresh_token"] == ehr.issued[1]["refresh_token"]
    live = await services.sessions.get(session_id)
    assert live is not None
    assert live.session.refresh_token is not None
    assert live.session.refresh_token.get_secret_value() == ehr.issued[2]["refresh_token"]


async def test_concurrent_refreshes_spend_the_refresh_token_once(
    client: httpx.AsyncClient, ehr: FakeEhr, app: FastAPI, clock: FakeClock
) -> None:
    services, session_id = await launched(client, ehr, app)
    clock.advance(ehr.expires_in + 5)
    sources = [services.token_source(session_id) for _ in range(5)]
    tokens = await asyncio.gather(*(source.access_token() for source in sources))
    refreshes = [r for r in ehr.token_requests if r["grant_type"] == "refresh_token"]
    assert len(refreshes) == 1
    assert set(tokens) == {ehr.issued[1]["access_token"]}


async def test_after_a_401_the_token_is_renewed_once_even_for_parallel_callers(
    client: httpx.AsyncClient, ehr: FakeEhr, app: FastAPI
) -> None:
    services, session_id = await launched(client, ehr, app)
    sources = [services.token_source(session_id) for _ in range(3)]
    for source in sources:
        await source.access_token()
    renewed = await asyncio.gather(*(s.refreshed_access_token() for s in sources))
    assert len([r for r in ehr.token_requests if r["grant_type"] == "refresh_token"]) == 1
    assert set(renewed) == {ehr.issued[1]["access_token"]}


async def test_a_refused_refresh_ends_the_session_access_and_forgets_the_token(
    client: httpx.AsyncClient, ehr: FakeEhr, app: FastAPI, clock: FakeClock
) -> None:
    services, session_id = await launched(client, ehr, app)
    ehr.refresh_tokens.clear()  # the server revoked the grant
    clock.advance(ehr.expires_in + 1)
    with pytest.raises(SessionExpiredError):
        await services.token_source(session_id).access_token()
    live = await services.sessions.get(session_id)
    assert live is not None and live.session.refresh_token is None
    with pytest.raises(SessionExpiredError):  # and it is not sent again
        await services.token_source(session_id).access_token()
    assert len(ehr.token_requests) == 2


async def test_without_refresh_token_an_expired_token_ends_the_session(
    client: httpx.AsyncClient, ehr: FakeEhr, app: FastAPI, clock: FakeClock
) -> None:
    ehr.issue_refresh_tokens = False
    services, session_id = await launched(client, ehr, app)
    source = services.token_source(session_id)
    clock.advance(ehr.expires_in - 30)  # inside the margin but still valid: used as is
    assert await source.access_token() == ehr.issued[0]["access_token"]
    with pytest.raises(TokenRefreshUnavailableError):
        await source.refreshed_access_token()
    clock.advance(60)
    with pytest.raises(SessionExpiredError) as raised:
        await source.access_token()
    assert "Open the app from the EHR again" in raised.value.clinician


async def test_a_narrower_scope_on_refresh_is_recorded(
    client: httpx.AsyncClient, ehr: FakeEhr, app: FastAPI, clock: FakeClock
) -> None:
    services, session_id = await launched(client, ehr, app)
    grant = next(iter(ehr.refresh_tokens.values()))[0]
    grant.scope = "launch patient/Patient.rs"
    clock.advance(ehr.expires_in)
    await services.token_source(session_id).access_token()
    live = await services.sessions.get(session_id)
    assert live is not None and live.session.granted_scope == "launch patient/Patient.rs"


async def test_an_ended_session_has_no_token(
    client: httpx.AsyncClient, ehr: FakeEhr, app: FastAPI
) -> None:
    services, session_id = await launched(client, ehr, app)
    await services.sessions.end(session_id)
    with pytest.raises(SessionMissingError):
        await services.token_source(session_id).access_token()


async def test_expired_token_mid_session_is_refreshed_behind_the_page(
    client: httpx.AsyncClient, ehr: FakeEhr, app: FastAPI, clock: FakeClock
) -> None:
    await launched(client, ehr, app)
    clock.advance(ehr.expires_in + 120)
    page = await client.get("/app")
    assert page.status_code == 200
    assert "Ada Q. Testperson" in page.text
    assert [r["grant_type"] for r in ehr.token_requests] == ["authorization_code", "refresh_token"]
    patient_call = ehr.routes["patient"].calls.last.request
    assert patient_call.headers["authorization"] == f"Bearer {ehr.issued[1]['access_token']}"


async def test_a_401_from_the_ehr_renews_the_token_and_retries(
    client: httpx.AsyncClient, ehr: FakeEhr, app: FastAPI
) -> None:
    await launched(client, ehr, app)
    ehr.access_tokens.clear()  # the EHR revoked the access token early
    page = await client.get("/app")
    assert page.status_code == 200
    assert "Ada Q. Testperson" in page.text
    assert ehr.routes["patient"].call_count == 2
    assert ehr.token_requests[-1]["grant_type"] == "refresh_token"


WorkerFactory = Callable[[SmartServices, FakeClock], SessionService]


@pytest.fixture
async def another_worker() -> AsyncIterator[WorkerFactory]:
    """Makes the sessions as a second worker process sees them: the same database, its own
    connections and its own per-session locks. Their databases are closed after the test."""
    databases: list[Database] = []

    def make(services: SmartServices, clock: FakeClock) -> SessionService:
        database = Database(services.settings.database_url)
        databases.append(database)
        cipher = TokenCipher.from_key_file(secret_key_path(services.settings))
        return SessionService(SessionStore(database, cipher), clock)

    yield make
    for database in databases:
        await database.dispose()


async def test_workers_refreshing_one_session_at_once_spend_the_refresh_token_once(
    client: httpx.AsyncClient,
    ehr: FakeEhr,
    app: FastAPI,
    clock: FakeClock,
    another_worker: WorkerFactory,
) -> None:
    services, session_id = await launched(client, ehr, app)
    clock.advance(ehr.expires_in + 5)
    workers = [services.sessions, another_worker(services, clock), another_worker(services, clock)]
    sources = [
        SessionTokenSource(session_id, sessions=w, refresh=services.refresh, clock=clock)
        for w in workers
    ]
    tokens = await asyncio.gather(*(source.access_token() for source in sources))
    refreshes = [r for r in ehr.token_requests if r["grant_type"] == "refresh_token"]
    assert len(refreshes) == 1
    assert set(tokens) == {ehr.issued[1]["access_token"]}


async def test_a_claim_left_by_a_worker_that_died_lapses(
    client: httpx.AsyncClient,
    ehr: FakeEhr,
    app: FastAPI,
    clock: FakeClock,
    another_worker: WorkerFactory,
) -> None:
    services, session_id = await launched(client, ehr, app)
    clock.advance(ehr.expires_in + 5)
    dead = another_worker(services, clock)
    assert await dead.claim_refresh(session_id, REFRESH_CLAIM_SECONDS)  # and never released
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds)

    source = SessionTokenSource(
        session_id, sessions=services.sessions, refresh=services.refresh, clock=clock, sleep=sleep
    )
    token = await source.access_token()
    assert token == ehr.issued[1]["access_token"]
    assert sum(waits) >= REFRESH_CLAIM_SECONDS  # it waited for the claim to lapse, no longer
    assert sum(waits) < REFRESH_CLAIM_SECONDS + 1
    assert len([r for r in ehr.token_requests if r["grant_type"] == "refresh_token"]) == 1
    # Released after the refresh: the next one needs no wait.
    assert await dead.claim_refresh(session_id, REFRESH_CLAIM_SECONDS)
