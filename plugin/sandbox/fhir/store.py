"""Resource storage for the sandbox FHIR server: one SQLite database (a file, or memory for
tests) holding every version of every resource.

All access goes through one connection guarded by one lock, so a write — a single create or
a whole transaction Bundle — is one SQLite transaction that either commits entirely or leaves
nothing behind, and no reader ever sees half of it.

A stored version never changes, so each is parsed from JSON once and kept (`ParsedBodies`):
a search reads every candidate of a patient, and parsing them all again on every request
made the sandbox, not the client, the slow side of a benchmark. The parsed bodies are shared:
callers treat `StoredResource.body` as read-only. Beside each body the store keeps what
searches extracted from it (`StoredResource.search_values`), so a search over thousands of a
patient's records reads each record's codes, references and dates once, not once per search.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

__all__ = ["ParsedBodies", "ResourceStore", "StoredResource", "Writer", "instant"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resource_version (
    resource_type TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    last_updated TEXT NOT NULL,
    patient TEXT,
    body TEXT NOT NULL,
    PRIMARY KEY (resource_type, id, version)
);
CREATE TABLE IF NOT EXISTS resource_current (
    resource_type TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    patient TEXT,
    PRIMARY KEY (resource_type, id)
);
CREATE INDEX IF NOT EXISTS resource_current_patient ON resource_current (resource_type, patient);
"""


def instant(moment: datetime) -> str:
    """A FHIR instant in UTC with milliseconds: ``2026-05-09T07:35:25.123Z``."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class StoredResource:
    resource_type: str
    id: str
    version: int
    last_updated: str  # FHIR instant
    patient: str | None  # the patient compartment it belongs to, if any
    body: dict[str, Any]  # the resource, meta.versionId and meta.lastUpdated filled in
    # Search values extracted from `body`, by parameter (plugin.sandbox.fhir.search fills it);
    # sound because a version's body never changes.
    search_values: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def etag(self) -> str:
        return f'W/"{self.version}"'

    @property
    def reference(self) -> str:
        return f"{self.resource_type}/{self.id}"


class ParsedBodies:
    """Parsed resource bodies by (type, id, version), the least recently used dropped beyond
    `limit`. Only sound while a (type, id, version) names one body: the store empties it when
    a transaction rolls back or the store is cleared, as versions are then written again."""

    def __init__(self, limit: int = 50_000) -> None:
        self._limit = limit
        self._bodies: OrderedDict[tuple[str, str, int], tuple[dict[str, Any], dict[Any, Any]]] = (
            OrderedDict()
        )

    def __len__(self) -> int:
        return len(self._bodies)

    def stored(self, row: Iterable[Any]) -> StoredResource:
        """The resource of a (type, id, version, last_updated, patient, body JSON) row."""
        resource_type, resource_id, version, last_updated, patient, text = row
        key = (str(resource_type), str(resource_id), int(version))
        kept = self._bodies.get(key)
        if kept is None:
            kept = self.keep(key, json.loads(text))
        else:
            self._bodies.move_to_end(key)
        return StoredResource(
            key[0], key[1], key[2], str(last_updated),
            None if patient is None else str(patient), kept[0], kept[1],
        )  # fmt: skip

    def has(self, key: tuple[str, str, int]) -> bool:
        return key in self._bodies

    def keep(
        self, key: tuple[str, str, int], body: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[Any, Any]]:
        """Keep a version's parsed body (with an empty memo of its search values)."""
        kept = self._bodies[key] = (body, {})
        self._bodies.move_to_end(key)
        while len(self._bodies) > self._limit:
            self._bodies.popitem(last=False)
        return kept

    def forget_all(self) -> None:
        self._bodies.clear()


_SELECT = (
    "SELECT v.resource_type, v.id, v.version, v.last_updated, v.patient, v.body "
    "FROM resource_current c JOIN resource_version v "
    "ON v.resource_type = c.resource_type AND v.id = c.id AND v.version = c.version"
)


async def _read(
    db: aiosqlite.Connection, bodies: ParsedBodies, resource_type: str, resource_id: str
) -> StoredResource | None:
    cursor = await db.execute(
        f"{_SELECT} WHERE c.resource_type = ? AND c.id = ?", (resource_type, resource_id)
    )
    row = await cursor.fetchone()
    return None if row is None else bodies.stored(row)


#: Ids per statement when reading many: well under SQLite's bound-variable limit.
_IDS_PER_STATEMENT = 500
#: (id, version) pairs per statement: two bound variables each.
_PAIRS_PER_STATEMENT = _IDS_PER_STATEMENT // 2

#: Compartments whose search candidates are kept between writes.
_CANDIDATE_LISTS = 64

_SELECT_BODIES = "SELECT id, version, body FROM resource_version"
_SELECT_KEYS = (
    "SELECT v.resource_type, v.id, v.version, v.last_updated, v.patient "
    "FROM resource_current c JOIN resource_version v "
    "ON v.resource_type = c.resource_type AND v.id = c.id AND v.version = c.version"
)


async def _candidates(
    db: aiosqlite.Connection, bodies: ParsedBodies, resource_type: str, patient: str | None
) -> list[StoredResource]:
    # Versions first, without their bodies: most are parsed already, and copying thousands of
    # JSON texts out of SQLite only to find them cached was most of a search's cost.
    if patient is None:
        cursor = await db.execute(f"{_SELECT_KEYS} WHERE c.resource_type = ?", (resource_type,))
    else:
        cursor = await db.execute(
            f"{_SELECT_KEYS} WHERE c.resource_type = ? AND c.patient = ?", (resource_type, patient)
        )
    rows = await cursor.fetchall()
    keys = [(str(row[0]), str(row[1]), int(row[2])) for row in rows]
    texts: dict[tuple[str, str, int], str] = {}
    # Until every version is parsed or its text is here: the loop repeats only if another
    # request evicted a parsed body while this one waited on the database.
    while missing := [key for key in keys if key not in texts and not bodies.has(key)]:
        for start in range(0, len(missing), _PAIRS_PER_STATEMENT):
            chunk = missing[start : start + _PAIRS_PER_STATEMENT]
            wanted = " OR ".join("(id = ? AND version = ?)" for _ in chunk)
            cursor = await db.execute(
                f"{_SELECT_BODIES} WHERE resource_type = ? AND ({wanted})",
                (resource_type, *(value for key in chunk for value in key[1:])),
            )
            for resource_id, version, text in await cursor.fetchall():
                texts[(resource_type, str(resource_id), int(version))] = str(text)
    return [bodies.stored((*row, texts.get(key, ""))) for row, key in zip(rows, keys, strict=True)]


async def _read_many(
    db: aiosqlite.Connection, bodies: ParsedBodies, keys: list[tuple[str, str]]
) -> list[StoredResource]:
    # One statement per type and chunk rather than one per resource: each statement is a
    # round trip to the database thread.
    by_type: dict[str, list[str]] = {}
    for resource_type, resource_id in keys:
        by_type.setdefault(resource_type, []).append(resource_id)
    found: dict[tuple[str, str], StoredResource] = {}
    for resource_type, ids in by_type.items():
        for start in range(0, len(ids), _IDS_PER_STATEMENT):
            chunk = ids[start : start + _IDS_PER_STATEMENT]
            cursor = await db.execute(
                f"{_SELECT} WHERE c.resource_type = ? AND c.id IN ({', '.join('?' * len(chunk))})",
                (resource_type, *chunk),
            )
            for row in await cursor.fetchall():
                stored = bodies.stored(row)
                found[(stored.resource_type, stored.id)] = stored
    return [found[key] for key in keys if key in found]


class Writer:
    """Reads and writes inside one open transaction (sees its own uncommitted writes)."""

    def __init__(self, connection: aiosqlite.Connection, bodies: ParsedBodies) -> None:
        self._db = connection
        self._bodies = bodies

    async def read(self, resource_type: str, resource_id: str) -> StoredResource | None:
        return await _read(self._db, self._bodies, resource_type, resource_id)

    async def candidates(self, resource_type: str, patient: str | None) -> list[StoredResource]:
        return await _candidates(self._db, self._bodies, resource_type, patient)

    async def put(
        self, resource: dict[str, Any], patient: str | None, now: datetime
    ) -> StoredResource:
        """Store a new version of ``resource`` (its id set); returns it as stored."""
        resource_type, resource_id = str(resource["resourceType"]), str(resource["id"])
        cursor = await self._db.execute(
            "SELECT version FROM resource_current WHERE resource_type = ? AND id = ?",
            (resource_type, resource_id),
        )
        row = await cursor.fetchone()
        version = 1 if row is None else int(row[0]) + 1
        last_updated = instant(now)
        body = dict(resource)
        meta = dict(body.get("meta") or {})
        meta["versionId"] = str(version)
        meta["lastUpdated"] = last_updated
        body["meta"] = meta
        # Keep resourceType and id first, as FHIR JSON is usually written.
        body = {"resourceType": resource_type, "id": resource_id, **body}
        await self._db.execute(
            "INSERT INTO resource_version VALUES (?, ?, ?, ?, ?, ?)",
            (resource_type, resource_id, version, last_updated, patient, json.dumps(body)),
        )
        await self._db.execute(
            "INSERT INTO resource_current VALUES (?, ?, ?, ?) "
            "ON CONFLICT (resource_type, id) DO UPDATE SET version = excluded.version, "
            "patient = excluded.patient",
            (resource_type, resource_id, version, patient),
        )
        return StoredResource(resource_type, resource_id, version, last_updated, patient, body)

    async def load(self, resources: list[tuple[dict[str, Any], str | None]], now: datetime) -> None:
        """Insert first versions of many (resource, patient) pairs at once; for an empty
        store (after `clear`), where one statement per row would be needlessly slow."""
        last_updated = instant(now)
        rows: list[tuple[str, str, int, str, str | None, str]] = []
        for resource, patient in resources:
            body = {**resource, "meta": {**resource.get("meta", {}), "versionId": "1",
                                         "lastUpdated": last_updated}}  # fmt: skip
            rows.append(
                (body["resourceType"], body["id"], 1, last_updated, patient, json.dumps(body))
            )
        await self._db.executemany("INSERT INTO resource_version VALUES (?, ?, ?, ?, ?, ?)", rows)
        await self._db.executemany(
            "INSERT INTO resource_current VALUES (?, ?, ?, ?)",
            [(row[0], row[1], 1, row[4]) for row in rows],
        )

    async def clear(self) -> None:
        await self._db.execute("DELETE FROM resource_current")
        await self._db.execute("DELETE FROM resource_version")
        self._bodies.forget_all()  # versions start again at 1 with other bodies


class ResourceStore:
    """The sandbox's resources. `open` before use, `close` at the end."""

    def __init__(self, database_file: Path | None, bodies: ParsedBodies | None = None) -> None:
        self._file = database_file
        self._connection: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._bodies = bodies if bodies is not None else ParsedBodies()  # empty is falsy
        # Search candidates by (type, patient) until the next write: a client paging through a
        # patient's records searches the same compartment again and again.
        self._candidate_lists: OrderedDict[tuple[str, str | None], list[StoredResource]] = (
            OrderedDict()
        )

    async def open(self) -> None:
        if self._connection is not None:
            return
        if self._file is not None:
            self._file.parent.mkdir(parents=True, exist_ok=True)
        target = ":memory:" if self._file is None else str(self._file)
        connection = await aiosqlite.connect(target, isolation_level=None)
        await connection.executescript(_SCHEMA)
        self._connection = connection

    @property
    def _db(self) -> aiosqlite.Connection:
        if self._connection is None:
            raise RuntimeError("the resource store is not open")
        return self._connection

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def read(self, resource_type: str, resource_id: str) -> StoredResource | None:
        async with self._lock:
            return await _read(self._db, self._bodies, resource_type, resource_id)

    async def read_version(
        self, resource_type: str, resource_id: str, version: int
    ) -> StoredResource | None:
        async with self._lock:
            cursor = await self._db.execute(
                "SELECT resource_type, id, version, last_updated, patient, body "
                "FROM resource_version WHERE resource_type = ? AND id = ? AND version = ?",
                (resource_type, resource_id, version),
            )
            row = await cursor.fetchone()
            return None if row is None else self._bodies.stored(row)

    async def history(self, resource_type: str, resource_id: str) -> list[StoredResource]:
        """Every version of a resource, newest first."""
        async with self._lock:
            cursor = await self._db.execute(
                "SELECT resource_type, id, version, last_updated, patient, body "
                "FROM resource_version WHERE resource_type = ? AND id = ? ORDER BY version DESC",
                (resource_type, resource_id),
            )
            rows = await cursor.fetchall()
            return [self._bodies.stored(row) for row in rows]

    async def candidates(self, resource_type: str, patient: str | None) -> list[StoredResource]:
        """Current versions of a type, only those in `patient`'s compartment when given."""
        async with self._lock:
            key = (resource_type, patient)
            cached = self._candidate_lists.get(key)
            if cached is None:
                cached = await _candidates(self._db, self._bodies, resource_type, patient)
                self._candidate_lists[key] = cached
                while len(self._candidate_lists) > _CANDIDATE_LISTS:
                    self._candidate_lists.popitem(last=False)
            else:
                self._candidate_lists.move_to_end(key)
            return list(cached)

    async def read_many(self, keys: list[tuple[str, str]]) -> list[StoredResource]:
        """Current versions of the given (type, id) pairs, in that order; gone ones skipped."""
        async with self._lock:
            return await _read_many(self._db, self._bodies, keys)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Writer]:
        """One SQLite transaction: committed when the block ends, rolled back if it raises."""
        async with self._lock:
            db = self._db
            # Whatever the transaction writes may change any search's candidates; none are
            # listed again while it holds the lock.
            self._candidate_lists.clear()
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield Writer(db, self._bodies)
            except BaseException:
                await db.execute("ROLLBACK")
                # Bodies read inside it may be versions that now never existed.
                self._bodies.forget_all()
                raise
            await db.execute("COMMIT")
