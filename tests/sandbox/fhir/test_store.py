from datetime import UTC, datetime
from pathlib import Path

import pytest

from plugin.sandbox.fhir.store import ResourceStore

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def observation(resource_id: str, status: str = "final") -> dict[str, object]:
    return {
        "resourceType": "Observation",
        "id": resource_id,
        "status": status,
        "code": {"text": "x"},
    }


async def test_versions_accumulate_and_the_current_one_is_read(tmp_path: Path) -> None:
    store = ResourceStore(tmp_path / "fhir.sqlite3")
    await store.open()
    async with store.transaction() as writer:
        first = await writer.put(observation("o1"), "p1", NOW)
        second = await writer.put(observation("o1", "amended"), "p1", NOW)
    assert (first.version, second.version) == (1, 2)
    current = await store.read("Observation", "o1")
    assert current is not None and current.body["status"] == "amended"
    assert current.body["meta"] == {"versionId": "2", "lastUpdated": "2026-03-01T12:00:00.000Z"}
    assert [v.version for v in await store.history("Observation", "o1")] == [2, 1]
    await store.close()
    # A file store keeps its data.
    reopened = ResourceStore(tmp_path / "fhir.sqlite3")
    await reopened.open()
    assert (await reopened.read("Observation", "o1")) is not None
    await reopened.close()


async def test_an_exception_rolls_back_everything_written_in_the_transaction() -> None:
    store = ResourceStore(None)
    await store.open()
    with pytest.raises(RuntimeError):
        async with store.transaction() as writer:
            await writer.put(observation("o1"), "p1", NOW)
            assert await writer.read("Observation", "o1") is not None  # visible inside
            raise RuntimeError("entry 2 failed")
    assert await store.read("Observation", "o1") is None
    assert await store.candidates("Observation", "p1") == []
    await store.close()


async def test_candidates_filter_by_patient_compartment() -> None:
    store = ResourceStore(None)
    await store.open()
    async with store.transaction() as writer:
        await writer.load([(observation("a"), "p1"), (observation("b"), "p2")], NOW)
    assert [s.id for s in await store.candidates("Observation", "p1")] == ["a"]
    assert {s.id for s in await store.candidates("Observation", None)} == {"a", "b"}
    assert [s.id for s in await store.read_many([("Observation", "b"), ("Observation", "zz")])] == [
        "b"
    ]
    await store.close()


async def test_using_a_closed_store_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="not open"):
        await ResourceStore(None).read("Observation", "o1")
