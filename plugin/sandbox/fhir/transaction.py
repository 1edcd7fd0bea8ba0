"""`transaction` Bundles (FHIR R4 http.html §transaction): all entries succeed together in one
SQLite transaction, or none does.

Creates (POST, with `ifNoneExist`) and updates (PUT ``Type/id``, with `ifMatch`) are
supported. Ids are assigned first, so ``urn:uuid:`` references between entries resolve to the
ids created; creates are processed before updates, as the specification orders them, and the
response lists the entries in the order they were sent.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import Any

from plugin.sandbox.fhir.access import Access
from plugin.sandbox.fhir.interactions import CompartmentLookup, FhirInteractions, WriteResult
from plugin.sandbox.fhir.outcome import FhirError, Issue
from plugin.sandbox.fhir.references import ID_PATTERN, iter_references, patient_reference_ids
from plugin.sandbox.fhir.search_parameters import RESOURCE_TYPES
from plugin.sandbox.fhir.store import Writer
from plugin.sandbox.fhir.validation import validate_resource

__all__ = ["TransactionEntryResult", "run_transaction"]


@dataclass(frozen=True, slots=True)
class _Entry:
    index: int
    method: str  # POST | PUT
    resource_type: str
    resource_id: str | None  # PUT: from the url
    full_url: str | None
    if_none_exist: str | None
    if_match: str | None
    resource: dict[str, Any]

    @property
    def where(self) -> str:
        return f"Bundle.entry[{self.index}]"


@dataclass(frozen=True, slots=True)
class TransactionEntryResult:
    index: int
    result: WriteResult


def _entries(bundle: Any) -> list[_Entry]:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise FhirError.single(400, "structure", "POST to the FHIR base takes a Bundle")
    if bundle.get("type") != "transaction":
        raise FhirError.single(
            400,
            "not-supported",
            f"Bundle.type {bundle.get('type')!r} is not supported here; send a transaction",
            "Bundle.type",
        )
    raw_entries = bundle.get("entry") or []
    if not isinstance(raw_entries, list):
        raise FhirError.single(400, "structure", "Bundle.entry must be a list", "Bundle.entry")
    problems: list[Issue] = []
    entries: list[_Entry] = []
    for index, raw in enumerate(raw_entries):
        where = f"Bundle.entry[{index}]"
        try:
            entries.append(_entry(index, raw, where))
        except FhirError as exc:
            problems.extend(exc.issues)
    if problems:
        raise FhirError(400, problems)
    return entries


def _entry(index: int, raw: Any, where: str) -> _Entry:
    if not isinstance(raw, dict):
        raise FhirError.single(400, "structure", f"{where} must be an object", where)
    request = raw.get("request")
    if not isinstance(request, dict):
        raise FhirError.single(400, "required", f"{where}.request is required", f"{where}.request")
    method = request.get("method")
    url = str(request.get("url") or "")
    resource = raw.get("resource")
    for condition in ("ifNoneExist", "ifMatch"):
        if condition in request and not isinstance(request[condition], str):
            raise FhirError.single(
                400, "invalid", f"{where}.request.{condition} must be a string",
                f"{where}.request.{condition}",
            )  # fmt: skip
    if method not in ("POST", "PUT"):
        raise FhirError.single(
            400,
            "not-supported",
            f"{where}.request.method {method!r} is not supported (POST and PUT are)",
            f"{where}.request.method",
        )
    if not isinstance(resource, dict):
        raise FhirError.single(
            400, "required", f"{where}.resource is required", f"{where}.resource"
        )
    path = url.split("?", 1)[0].strip("/")
    parts = path.split("/")
    resource_type = parts[0]
    resource_id: str | None = None
    if method == "POST" and len(parts) != 1:
        raise FhirError.single(
            400, "invalid", f"{where}.request.url of a create is the type, e.g. 'Observation'",
            f"{where}.request.url",
        )  # fmt: skip
    if method == "PUT":
        if len(parts) != 2 or not ID_PATTERN.fullmatch(parts[1]) or "?" in url:
            raise FhirError.single(
                400, "invalid", f"{where}.request.url of an update is 'Type/id'",
                f"{where}.request.url",
            )  # fmt: skip
        resource_id = parts[1]
    if resource_type not in RESOURCE_TYPES or resource.get("resourceType") != resource_type:
        raise FhirError.single(
            400,
            "invalid",
            f"{where}: request.url names {resource_type!r} but the resource is "
            f"{resource.get('resourceType')!r}, or the type is not supported",
            f"{where}.request.url",
        )
    return _Entry(
        index=index,
        method=str(method),
        resource_type=resource_type,
        resource_id=resource_id,
        full_url=raw.get("fullUrl") if isinstance(raw.get("fullUrl"), str) else None,
        if_none_exist=request.get("ifNoneExist"),
        if_match=request.get("ifMatch"),
        resource=resource,
    )


async def run_transaction(
    interactions: FhirInteractions, access: Access, bundle: Any
) -> list[TransactionEntryResult]:
    """Process a transaction Bundle. Raises `FhirError` (nothing written) if any entry fails."""
    entries = _entries(bundle)
    base = interactions.fhir_base
    async with interactions.store.transaction() as writer:
        # 1. Decide every entry's id: matches of ifNoneExist, new ids for creates, url ids.
        targets: dict[int, str] = {}
        existing: dict[int, WriteResult] = {}
        for entry in entries:
            if entry.method == "PUT":
                assert entry.resource_id is not None
                targets[entry.index] = entry.resource_id
                continue
            if entry.if_none_exist and interactions.behaviour().conditional_create:
                found = await interactions.find_matches(
                    writer, access, entry.resource_type, entry.if_none_exist, entry.where
                )
                if len(found) > 1:
                    raise FhirError.single(
                        412,
                        "multiple-matches",
                        f"{entry.where}: ifNoneExist matches {len(found)} resources",
                        f"{entry.where}.request.ifNoneExist",
                    )
                if found:
                    existing[entry.index] = WriteResult(found[0], created=False)
                    targets[entry.index] = found[0].id
                    continue
            targets[entry.index] = str(uuid.uuid4())
        # 2. Point references at fullUrls of other entries to the ids just decided.
        by_full_url = {
            e.full_url: f"{e.resource_type}/{targets[e.index]}" for e in entries if e.full_url
        }
        resources = {e.index: _resolved(e.resource, by_full_url) for e in entries}
        problems: list[Issue] = []
        for entry in entries:
            try:
                validate_resource(
                    resources[entry.index], entry.resource_type, f"{entry.where}.resource"
                )
            except FhirError as exc:
                problems.extend(exc.issues)
        if problems:
            raise FhirError(400, problems)
        lookup = _bundle_lookup(writer, entries, resources, targets, base)
        # 3. Write: creates first, then updates (http.html §transaction processing rules).
        results: dict[int, WriteResult] = dict(existing)
        for entry in sorted(entries, key=lambda e: (e.method != "POST", e.index)):
            if entry.index in existing:
                continue
            resource = resources[entry.index]
            if entry.method == "POST":
                results[entry.index] = await interactions.create_in(
                    writer, access, resource, None, lookup, entry.where,
                    assigned_id=targets[entry.index], check_references=False,
                )  # fmt: skip
            else:
                assert entry.resource_id is not None
                results[entry.index] = await interactions.update_in(
                    writer, access, resource, entry.resource_id, entry.if_match, lookup,
                    entry.where, check_references=False,
                )  # fmt: skip
        # 4. References are checked once every entry exists, so entries may point at each other.
        if interactions.behaviour().check_references:
            for entry in entries:
                if entry.index not in existing:
                    body = results[entry.index].stored.body
                    await interactions.check_references(writer, body, f"{entry.where}.resource")
        return [TransactionEntryResult(e.index, results[e.index]) for e in entries]


def _resolved(resource: dict[str, Any], by_full_url: dict[str, str]) -> dict[str, Any]:
    copied = copy.deepcopy(resource)
    for reference in iter_references(copied):
        target = by_full_url.get(str(reference["reference"]))
        if target is not None:
            reference["reference"] = target
    return copied


def _bundle_lookup(
    writer: Writer,
    entries: list[_Entry],
    resources: dict[int, dict[str, Any]],
    targets: dict[int, str],
    base: str,
) -> CompartmentLookup:
    """Finds a resource's patient compartment among the Bundle's entries, then stored data."""
    in_bundle = {(e.resource_type, targets[e.index]): resources[e.index] for e in entries}

    async def lookup(resource_type: str, resource_id: str) -> str | None:
        body = in_bundle.get((resource_type, resource_id))
        if body is not None:
            patients = patient_reference_ids({**body, "id": resource_id}, base)
            return patients[0] if patients else None
        stored = await writer.read(resource_type, resource_id)
        return None if stored is None else stored.patient

    return lookup
