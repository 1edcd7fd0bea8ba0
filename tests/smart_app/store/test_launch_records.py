import sqlite3
from pathlib import Path

from smart_app.scopes import LaunchKind
from smart_app.store import (
    LAUNCH_TTL_SECONDS,
    Database,
    LaunchRecord,
    LaunchRecordStore,
    LaunchRefusal,
)
from smart_app.token_encryption import TokenCipher

NOW = 1_750_000_000.0
BINDING = "browser-binding-" + "b" * 30


def record(state: str = "state-abc", created_at: float = NOW) -> LaunchRecord:
    return LaunchRecord(
        state=state,
        iss="https://ehr.example.org/fhir",
        kind=LaunchKind.EHR,
        launch="launch-xyz",
        code_verifier="verifier-" + "v" * 40,
        scopes=("launch", "openid"),
        created_at=created_at,
        browser_binding=BINDING,
    )


async def test_a_record_is_taken_exactly_once(database: Database, cipher: TokenCipher) -> None:
    store = LaunchRecordStore(database, cipher)
    await store.save(record())
    assert await store.take("state-abc", NOW + 5, BINDING) == record()
    assert await store.take("state-abc", NOW + 6, BINDING) is LaunchRefusal.USED


async def test_only_the_launching_browser_can_take_a_record(
    database: Database, cipher: TokenCipher
) -> None:
    store = LaunchRecordStore(database, cipher)
    await store.save(record())
    assert await store.take("state-abc", NOW + 5, None) is LaunchRefusal.OTHER_BROWSER
    assert await store.take("state-abc", NOW + 5, "another-browser") is LaunchRefusal.OTHER_BROWSER
    # Another browser's try does not spend the launch: the launching browser still finishes it.
    assert await store.take("state-abc", NOW + 6, BINDING) == record()


async def test_unknown_and_expired_states_are_refused(
    database: Database, cipher: TokenCipher
) -> None:
    store = LaunchRecordStore(database, cipher)
    await store.save(record())
    assert await store.take("other", NOW, BINDING) is LaunchRefusal.UNKNOWN
    late = NOW + LAUNCH_TTL_SECONDS + 1
    assert await store.take("state-abc", late, BINDING) is LaunchRefusal.EXPIRED
    # an expired take spends it
    assert await store.take("state-abc", NOW, BINDING) is LaunchRefusal.USED


async def test_secrets_are_encrypted_and_the_state_is_hashed(
    database: Database, cipher: TokenCipher, tmp_path: Path
) -> None:
    await LaunchRecordStore(database, cipher).save(record())
    with sqlite3.connect(tmp_path / "nested" / "app.sqlite3") as connection:
        raw = connection.execute("select state_hash, secrets from smart_launch_records").fetchall()
    dump = repr(raw)
    assert "state-abc" not in dump and "launch-xyz" not in dump and "verifier-" not in dump
    assert BINDING not in dump
    assert len(raw[0][0]) == 64


async def test_old_records_are_purged(database: Database, cipher: TokenCipher) -> None:
    store = LaunchRecordStore(database, cipher)
    await store.save(record("old", NOW))
    await store.save(record("new", NOW + 7200))
    assert await store.take("old", NOW + 7200, BINDING) is LaunchRefusal.UNKNOWN


async def test_records_written_under_another_key_are_unknown(database: Database) -> None:
    from cryptography.fernet import Fernet

    await LaunchRecordStore(database, TokenCipher([Fernet.generate_key()])).save(record())
    other = LaunchRecordStore(database, TokenCipher([Fernet.generate_key()]))
    assert await other.take("state-abc", NOW, BINDING) is LaunchRefusal.UNKNOWN
