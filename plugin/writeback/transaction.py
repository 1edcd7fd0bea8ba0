"""The full strategy on the wire: the steps of a plan as one `transaction` Bundle, and the
server ids read back from its `transaction-response` (FHIR R4 http.html §transaction).

A transaction-response has one entry per request entry, in the same order, each with its
`response.status`; a transaction succeeds or fails as a whole. An answer that does not show
every entry applied (an entry with an error status, entries missing or extra) confirms
nothing: `transaction_outcomes` raises `UnconfirmedTransactionError` rather than guess."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from plugin.errors import DiscographyError
from plugin.writeback.plan import StepAction, WriteStep
from plugin.writeback.references import rewrite_references

__all__ = [
    "EntryOutcome",
    "EntryRefusal",
    "UnconfirmedTransactionError",
    "parse_location",
    "transaction_bundle",
    "transaction_outcomes",
]


@dataclass(frozen=True, slots=True)
class EntryOutcome:
    """What the server did with one entry: `id`/`version` from its location (None when the
    server did not say), `created` from its status (201)."""

    key: str
    id: str | None
    version: str | None
    created: bool


@dataclass(frozen=True, slots=True)
class EntryRefusal:
    """An entry the server answered with a status other than 2xx: the status as sent ("" when
    it sent none) and its OperationOutcome (`response.outcome`; empty when it sent none)."""

    step: WriteStep
    status: str
    outcome: Mapping[str, Any]


class UnconfirmedTransactionError(DiscographyError):
    """The transaction-response does not show every entry applied: `refused` lists the
    entries with an error status; `problem` says what else is wrong with the answer (its
    type, or not one entry per request entry), None when only entries were refused."""

    def __init__(self, problem: str | None, refused: tuple[EntryRefusal, ...] = ()) -> None:
        super().__init__(problem or f"{len(refused)} transaction entries refused")
        self.problem = problem
        self.refused = refused


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
    """Per step, what the `transaction-response` says (its entries are in request order).
    UnconfirmedTransactionError unless it is one, with one 2xx entry per step."""
    if response.get("type") != "transaction-response":
        raise UnconfirmedTransactionError("the answer is not a transaction-response")
    raw_entries = response.get("entry")
    entries = [_object(e) for e in raw_entries] if isinstance(raw_entries, list) else []
    if len(entries) != len(steps):
        raise UnconfirmedTransactionError(
            f"it answered with {len(entries)} entries for the {len(steps)} it was sent"
        )
    refused = tuple(
        EntryRefusal(step, _status(raw), _object(_object(raw.get("response")).get("outcome")))
        for step, raw in zip(steps, entries, strict=True)
        if not _succeeded(_status(raw))
    )
    if refused:
        raise UnconfirmedTransactionError(None, refused)
    return tuple(_outcome(step, raw) for step, raw in zip(steps, entries, strict=True))


def _outcome(step: WriteStep, raw: Mapping[str, Any]) -> EntryOutcome:
    answer = _object(raw.get("response"))
    resource = _object(raw.get("resource"))
    location = answer.get("location")
    server_id, version = (
        parse_location(location, step.resource_type) if isinstance(location, str) else (None, None)
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
    return EntryOutcome(step.key, server_id, version, _status(raw).startswith("201"))


def _status(raw: Mapping[str, Any]) -> str:
    """`response.status` as sent: the code first, perhaps followed by its phrase (a number
    where a server sends one instead of the string FHIR asks for)."""
    status = _object(raw.get("response")).get("status")
    if isinstance(status, int) and not isinstance(status, bool):
        return str(status)
    return status.strip() if isinstance(status, str) else ""


def _succeeded(status: str) -> bool:
    code = status.split(" ", 1)[0]
    return len(code) == 3 and code.isdigit() and code.startswith("2")


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
