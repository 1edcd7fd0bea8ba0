"""A CDS client token is good for one call across every worker: two runtimes built from the
same settings (two uvicorn workers behind a load balancer) share the product database, so a
token one accepted is refused by the other. A database that cannot answer refuses the call
with 503 instead of accepting the token unchecked."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from plugin.cds_hooks.token_id_store import token_id_key
from smart_app.settings import Settings
from tests.cds_hooks.conftest import (
    CLIENT_ISS,
    PUBLIC_URL,
    SIGN,
    AppFactory,
    CdsApp,
    Clock,
    mint,
)
from tests.cds_hooks.test_router import outcome_issues

DISCOVERY = "/cds-services"
FEEDBACK = f"/cds-services/{SIGN}/feedback"


@pytest.fixture
def shared(settings: Settings, database_url: str) -> Settings:
    """The CDS settings on the parametrised database (SQLite, PostgreSQL)."""
    return settings.model_copy(update={"database_url": database_url})


async def workers(make_app: AppFactory, settings: Settings) -> tuple[CdsApp, CdsApp]:
    first: CdsApp = await make_app(settings=settings)
    second: CdsApp = await make_app(settings=settings)
    return first, second


def bearer(cds: CdsApp, path: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(cds.keys, PUBLIC_URL + path, now=cds.clock())}"}


async def stored_keys(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(text("select key from cds_token_ids"))).all()
    finally:
        await engine.dispose()
    return {row[0] for row in rows}


async def test_a_token_accepted_by_one_worker_is_refused_by_another(
    make_app: AppFactory, shared: Settings
) -> None:
    first, second = await workers(make_app, shared)
    headers = bearer(first, DISCOVERY)
    assert (await first.http.get(DISCOVERY, headers=headers)).status_code == 200
    replay = await second.http.get(DISCOVERY, headers=headers)
    assert replay.status_code == 401
    assert replay.headers["www-authenticate"] == "Bearer"
    assert outcome_issues(replay) == [
        {"severity": "error", "code": "login", "diagnostics": "Authentication failed."}
    ]
    # A fresh token is fine on either.
    assert (await second.http.get(DISCOVERY, headers=bearer(second, DISCOVERY))).status_code == 200


async def test_one_token_sent_to_both_workers_at_once_passes_once(
    make_app: AppFactory, shared: Settings
) -> None:
    first, second = await workers(make_app, shared)
    for cds in (first, second):  # migrated and connected before the race
        assert (await cds.http.get(DISCOVERY, headers=bearer(cds, DISCOVERY))).status_code == 200
    for _ in range(5):
        headers = bearer(first, DISCOVERY)
        answers = await asyncio.gather(
            *(cds.http.get(DISCOVERY, headers=headers) for cds in (first, second, first, second))
        )
        assert sorted(a.status_code for a in answers) == [200, 401, 401, 401]


async def test_refused_tokens_are_not_recorded(
    make_app: AppFactory, shared: Settings, clock: Clock
) -> None:
    # The client's registration names a tenant, so the tenant check is among those passed first.
    registrations = [
        r.model_copy(update={"tenant": "hospital-a"}) if r.iss == CLIENT_ISS else r
        for r in shared.cds_client
    ]
    cds: CdsApp = await make_app(settings=shared.model_copy(update={"cds_client": registrations}))
    aud = PUBLIC_URL + DISCOVERY

    def token(jti: str, now: float, audience: str = aud, tenant: str = "hospital-a") -> str:
        return mint(cds.keys, audience, now=now, claims={"jti": jti, "tenant": tenant})

    signed = token("j-sig", clock())
    refused = {
        "bad signature": signed[:-8] + ("A" * 8 if not signed.endswith("A" * 8) else "B" * 8),
        "wrong aud": token("j-aud", clock(), audience=PUBLIC_URL + FEEDBACK),
        "expired": token("j-exp", clock() - 900),
        "iat in the future": token("j-iat", clock() + 900),
        "other tenant": token("j-tenant", clock(), tenant="hospital-b"),
    }
    for why, bad in refused.items():
        answer = await cds.http.get(DISCOVERY, headers={"Authorization": f"Bearer {bad}"})
        assert answer.status_code == 401, why
    good = token("j-ok", clock())
    ok = await cds.http.get(DISCOVERY, headers={"Authorization": f"Bearer {good}"})
    assert ok.status_code == 200
    assert await stored_keys(shared.database_url) == {token_id_key(CLIENT_ISS, "j-ok")}


async def test_a_database_failure_is_a_503_outcome_and_the_token_is_not_accepted(
    make_app: AppFactory, shared: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    cds: CdsApp = await make_app(settings=shared)
    assert (await cds.http.get(DISCOVERY, headers=bearer(cds, DISCOVERY))).status_code == 200
    engine = create_async_engine(shared.database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("drop table cds_token_ids"))
    finally:
        await engine.dispose()
    token = mint(cds.keys, PUBLIC_URL + FEEDBACK, now=cds.clock(), claims={"jti": "jti-secret"})
    item = {
        "card": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
        "outcomeTimestamp": "2026-11-23T14:30:00Z",
    }
    with caplog.at_level(logging.INFO, logger="plugin.cds_hooks.router"):
        answer = await cds.http.post(
            FEEDBACK, json={"feedback": [item]}, headers={"Authorization": f"Bearer {token}"}
        )
    assert answer.status_code == 503
    assert answer.headers["access-control-allow-origin"] == "*"
    assert outcome_issues(answer) == [
        {
            "severity": "error",
            "code": "transient",
            "diagnostics": "The CDS service cannot check the token now; try again later.",
        }
    ]
    assert "Traceback" not in answer.text and "cds_token_ids" not in answer.text
    # Not accepted: the feedback it carried was not recorded.
    assert await cds.app.state.cds_runtime.feedback.records() == []
    # Logged, naming the failure, never the token or its claims.
    assert "could not be checked" in caplog.text and "cds_token_ids" in caplog.text
    for secret in (token, "jti-secret", CLIENT_ISS, token_id_key(CLIENT_ISS, "jti-secret")):
        assert secret not in caplog.text
