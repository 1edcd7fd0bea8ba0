from datetime import UTC, datetime
from pathlib import Path

import pytest

from plugin.sandbox.fhir.store import ParsedBodies, ResourceStore

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


async def test_read_many_keeps_the_asked_order_across_types_and_statement_chunks() -> None:
    store = ResourceStore(None)
    await store.open()
    ids = [f"o{i}" for i in range(1203)]  # more than one IN (...) statement's worth
    patient = {"resourceType": "Patient", "id": "p1"}
    async with store.transaction() as writer:
        await writer.load([(observation(i), "p1") for i in ids] + [(patient, "p1")], NOW)
    keys = [("Observation", i) for i in reversed(ids)]
    keys.insert(600, ("Patient", "p1"))
    keys.insert(3, ("Observation", "gone"))
    found = await store.read_many(keys)
    assert [(s.resource_type, s.id) for s in found] == [k for k in keys if k[1] != "gone"]
    await store.close()


async def test_a_version_rewritten_after_a_rollback_is_read_as_rewritten() -> None:
    # Bodies are parsed once per (type, id, version); a rolled-back version number is
    # written again with another body, which must not be served from the parsed bodies.
    store = ResourceStore(None)
    await store.open()
    with pytest.raises(RuntimeError):
        async with store.transaction() as writer:
            await writer.put(observation("o1", "preliminary"), "p1", NOW)
            assert (await writer.read("Observation", "o1")) is not None
            raise RuntimeError("entry 2 failed")
    async with store.transaction() as writer:
        await writer.put(observation("o1", "final"), "p1", NOW)
    current = await store.read("Observation", "o1")
    assert current is not None and current.version == 1 and current.body["status"] == "final"
    # The same after the store is cleared and loaded again.
    async with store.transaction() as writer:
        await writer.clear()
        await writer.load([(observation("o1", "amended"), "p1")], NOW)
    again = await store.read("Observation", "o1")
    assert again is not None and again.body["status"] == "amended"
    await store.close()


def test_parsed_bodies_drop_the_least_recently_used_beyond_the_limit() -> None:
    bodies = ParsedBodies(limit=2)
    rows = [("Observation", f"o{i}", 1, "t", None, f'{{"id": "o{i}"}}') for i in range(3)]
    first = bodies.stored(rows[0])
    bodies.stored(rows[1])
    assert bodies.stored(rows[0]).body is first.body  # parsed once, and now most recent
    bodies.stored(rows[2])  # o1 is dropped, not o0
    assert len(bodies) == 2
    assert bodies.stored(rows[0]).body is first.body


async def test_search_candidates_follow_every_write_and_rollback() -> None:
    # Candidates are kept per compartment between writes: each write must be seen at once.
    store = ResourceStore(None)
    await store.open()
    async with store.transaction() as writer:
        await writer.load([(observation("a"), "p1")], NOW)
    assert [s.id for s in await store.candidates("Observation", "p1")] == ["a"]
    async with store.transaction() as writer:
        await writer.put(observation("b"), "p1", NOW)
    assert sorted(s.id for s in await store.candidates("Observation", "p1")) == ["a", "b"]
    async with store.transaction() as writer:
        await writer.put(observation("a", "amended"), "p1", NOW)
    amended = {s.id: s for s in await store.candidates("Observation", "p1")}["a"]
    assert amended.version == 2 and amended.body["status"] == "amended"
    with pytest.raises(RuntimeError):
        async with store.transaction() as writer:
            await writer.put(observation("c"), "p1", NOW)
            raise RuntimeError("entry 2 failed")
    assert sorted(s.id for s in await store.candidates("Observation", "p1")) == ["a", "b"]
    async with store.transaction() as writer:
        await writer.clear()
    assert await store.candidates("Observation", "p1") == []
    await store.close()


async def test_candidates_whose_bodies_were_dropped_are_read_again() -> None:
    # Versions are listed without their bodies; a body no longer parsed is read from SQLite.
    bodies = ParsedBodies(limit=3)
    store = ResourceStore(None, bodies)
    await store.open()
    ids = [f"o{i}" for i in range(700)]  # more (id, version) pairs than one statement holds
    async with store.transaction() as writer:
        await writer.load([(observation(i), "p1") for i in ids], NOW)
    found = await store.candidates("Observation", "p1")
    assert sorted(s.id for s in found) == sorted(ids)
    assert all(s.body["id"] == s.id for s in found)
    assert len(bodies) == 3  # all but three were dropped again while reading
    await store.close()
