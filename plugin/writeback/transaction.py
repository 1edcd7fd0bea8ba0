"""The full strategy on the wire: the steps of a plan as one `transaction` Bundle, and the
server ids read back from its `transaction-response` (FHIR R4 http.html §transaction)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from plugin.writeback.plan import StepAction, WriteStep
from plugin.writeback.references import rewrite_references

__all__ = ["EntryOutcome", "parse_location", "transaction_bundle", "transaction_outcomes"]


@dataclass(frozen=True, slots=True)
class EntryOutcome:
    """What the server did with one entry: `id`/`version` from its location (None when the
    server did not say), `created` from its status (201)."""

    key: str
    id: str | None
    version: str | None
    created: bool


def transaction_bundle(
    steps: Sequence[WriteStep],
    resolved: Mapping[str, str],
    target_of: Callable[[WriteStep], tuple[str, str | None]],
) -> dict[str, Any]:
    """The Bundle for `steps`. `resolved` maps placeholders of resources already in the chart
    to ``Type/id``; `target_of(step)` gives an update's server id and the version for
    `ifMatch` (None: no precondition). Creates keep their ``urn:uuid:`` fullUrl so entries can
    reference each other; a create is conditional (`ifNoneExist`) where the server honours it.
    """
    entries = []
    for step in steps:
        body = rewrite_references(step.body, resolved)
        if step.action is StepAction.CREATE:
            request: dict[str, Any] = {"method": "POST", "url": step.resource_type}
            if step.conditional:
                request["ifNoneExist"] = step.if_none_exist
            entry: dict[str, Any] = {"resource": body, "request": request}
            if step.full_url is not None:
                entry = {"fullUrl": step.full_url, **entry}
        else:
            server_id, version = target_of(step)
            body["id"] = server_id
            request = {"method": "PUT", "url": f"{step.resource_type}/{server_id}"}
            if version is not None:
                request["ifMatch"] = f'W/"{version}"'
            entry = {"resource": body, "request": request}
            if step.full_url is not None:
                entry = {"fullUrl": step.full_url, **entry}
        entries.append(entry)
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def parse_location(location: str, resource_type: str) -> tuple[str | None, str | None]:
    """(id, version) from ``[base/]Type/id[/_history/vid]``; (None, None) if it is not one."""
    segments = [s for s in urlsplit(location).path.split("/") if s]
    if "_history" in segments:
        at = len(segments) - 1 - segments[::-1].index("_history")
        if at >= 2 and segments[at - 2] == resource_type and at + 1 < len(segments):
            return segments[at - 1], segments[at + 1]
        return None, None
    if len(segments) >= 2 and segments[-2] == resource_type:
        return segments[-1], None
    return None, None


def transaction_outcomes(
    response: Mapping[str, Any], steps: Sequence[WriteStep]
) -> tuple[EntryOutcome, ...]:
    """Per step, what the `transaction-response` says (its entries are in request order)."""
    raw_entries = response.get("entry")
    entries = raw_entries if isinstance(raw_entries, list) else []
    outcomes = []
    for index, step in enumerate(steps):
        raw = _object(entries[index]) if index < len(entries) else {}
        answer = _object(raw.get("response"))
        resource = _object(raw.get("resource"))
        location = answer.get("location")
        server_id, version = (
            parse_location(location, step.resource_type)
            if isinstance(location, str)
            else (None, None)
        )
        if server_id is None and resource.get("resourceType") == step.resource_type:
            found = resource.get("id")
            server_id = found if isinstance(found, str) else None
        version_id = _object(resource.get("meta")).get("versionId")
        if version is None and isinstance(version_id, str):
            version = version_id
        etag = answer.get("etag")
        if version is None and isinstance(etag, str):
            version = etag.removeprefix("W/").strip('"') or None
        status = str(answer.get("status", ""))
        outcomes.append(EntryOutcome(step.key, server_id, version, status.startswith("201")))
    return tuple(outcomes)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
