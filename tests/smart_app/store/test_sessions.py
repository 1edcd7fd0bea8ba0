import sqlite3
from pathlib import Path

from smart_app.store import Database, SessionStore
from smart_app.token_encryption import TokenCipher

NOW = 1_750_000_000.0


async def test_create_load_replace_delete(database: Database, cipher: TokenCipher) -> None:
    store = SessionStore(database, cipher)
    session_id = await store.create("iss", {"token": "at-1"}, now=NOW, expires_at=NOW + 60)
    loaded = await store.load(session_id, now=NOW)
    assert loaded is not None and loaded.state == {"token": "at-1"} and loaded.version == 1
    assert await store.replace(session_id, {"token": "at-2"}, expected_version=1, now=NOW)
    assert not await store.replace(session_id, {"token": "stale"}, expected_version=1, now=NOW)
    again = await store.load(session_id, now=NOW)
    assert again is not None and again.state == {"token": "at-2"} and again.version == 2
    await store.delete(session_id)
    assert await store.load(session_id, now=NOW) is None


async def test_expired_sessions_are_gone(database: Database, cipher: TokenCipher) -> None:
    store = SessionStore(database, cipher)
    session_id = await store.create("iss", {}, now=NOW, expires_at=NOW + 60)
    assert await store.load(session_id, now=NOW + 61) is None


async def test_ids_are_random_and_stored_only_hashed_with_encrypted_state(
    database: Database, cipher: TokenCipher, tmp_path: Path
) -> None:
    store = SessionStore(database, cipher)
    ids = {
        await store.create("iss", {"access": "at-secret"}, now=NOW, expires_at=NOW + 60)
        for _ in range(3)
    }
    assert len(ids) == 3 and all(len(i) >= 43 for i in ids)
    with sqlite3.connect(tmp_path / "nested" / "app.sqlite3") as connection:
        dump = repr(connection.execute("select * from smart_sessions").fetchall())
    assert "at-secret" not in dump
    assert not any(i in dump for i in ids)


async def test_an_unknown_id_has_no_session(database: Database, cipher: TokenCipher) -> None:
    assert await SessionStore(database, cipher).load("nope", now=NOW) is None
