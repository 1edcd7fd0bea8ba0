"""The FHIR RESTful interactions the sandbox serves — read, vread, history, search, create
(conditional too), update with `If-Match` — independent of HTTP. The transaction Bundle
builds on the same create and update steps (`plugin.sandbox.fhir.transaction`).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from plugin.sandbox.auth.scopes import Permission
from plugin.sandbox.behaviour import SandboxBehaviour
from plugin.sandbox.clock import Clock
from plugin.sandbox.fhir.access import Access
from plugin.sandbox.fhir.outcome import FhirError, Issue
from plugin.sandbox.fhir.paging import PagePosition, SearchResult, SearchSessions
from plugin.sandbox.fhir.references import (
    ID_PATTERN,
    iter_references,
    local_reference,
    patient_reference_ids,
)
from plugin.sandbox.fhir.search import (
    ReferenceValue,
    SearchQuery,
    matches,
    parse_search,
    sort_resources,
)
from plugin.sandbox.fhir.search_parameters import RESOURCE_TYPES
from plugin.sandbox.fhir.store import ResourceStore, StoredResource, Writer
from plugin.sandbox.fhir.validation import validate_resource

__all__ = ["CompartmentLookup", "FhirInteractions", "WriteResult", "require_type"]

#: Resolves ``Type/id`` to the patient compartment of that resource, if it exists.
CompartmentLookup = Callable[[str, str], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class WriteResult:
    stored: StoredResource
    created: bool  # False: an update, or a conditional create that found its match


def require_type(resource_type: str) -> None:
    if resource_type not in RESOURCE_TYPES:
        raise FhirError.single(
            404, "not-supported", f"resource type {resource_type!r} is not supported by this server"
        )


def _parse_etag(value: str) -> int | None:
    text = value.strip().removeprefix("W/").strip('"')
    return int(text) if text.isascii() and text.isdigit() else None


class FhirInteractions:
    def __init__(
        self,
        store: ResourceStore,
        sessions: SearchSessions,
        fhir_base: str,
        clock: Clock,
        behaviour: Callable[[], SandboxBehaviour],
    ) -> None:
        self.store = store
        self.sessions = sessions
        self.fhir_base = fhir_base
        self.clock = clock
        self.behaviour = behaviour

    # -- reading ------------------------------------------------------------------------

    async def read(self, access: Access, resource_type: str, resource_id: str) -> StoredResource:
        require_type(resource_type)
        stored = await self.store.read(resource_type, resource_id)
        if stored is None:
            raise FhirError.single(
                404, "not-found", f"{resource_type}/{resource_id} is not known to this server"
            )
        access.require(Permission.READ, resource_type, stored.patient, stored.body)
        return stored

    async def vread(
        self, access: Access, resource_type: str, resource_id: str, version: str
    ) -> StoredResource:
        current = await self.read(access, resource_type, resource_id)
        stored = (
            await self.store.read_version(resource_type, resource_id, int(version))
            if version.isascii() and version.isdigit()
            else None
        )
        if stored is None:
            raise FhirError.single(
                404, "not-found", f"{current.reference} has no version {version!r}"
            )
        return stored

    async def history(
        self, access: Access, resource_type: str, resource_id: str
    ) -> list[StoredResource]:
        await self.read(access, resource_type, resource_id)
        return await self.store.history(resource_type, resource_id)

    # -- searching ----------------------------------------------------------------------

    async def search(
        self,
        access: Access,
        resource_type: str,
        params: list[tuple[str, str]],
        *,
        lenient: bool = False,
    ) -> tuple[SearchQuery, PagePosition, SearchResult]:
        require_type(resource_type)
        query = parse_search(resource_type, params, self.fhir_base, lenient=lenient)
        compartment = access.search_compartment(resource_type, _named_patients(query))
        candidates = await self.store.candidates(resource_type, compartment)
        found = [
            s.body
            for s in candidates
            if matches(query, s.body, self.fhir_base, s.search_values)
            and access.permits(Permission.SEARCH, resource_type, s.patient, s.body)
        ]
        ordered = sort_resources(query, found)
        keys = [(resource_type, str(r["id"])) for r in ordered]
        position, result = self.sessions.first_page(
            resource_type, access.client_id, keys, query.count
        )
        return query, position, result

    async def page(
        self, access: Access, resource_type: str, token: str
    ) -> tuple[PagePosition, SearchResult]:
        found = self.sessions.page(token, access.client_id)
        if found is None or found[0].resource_type != resource_type:
            raise FhirError.single(
                410, "expired", "this page of search results has expired; run the search again"
            )
        return found

    async def page_resources(self, access: Access, position: PagePosition) -> list[StoredResource]:
        """The current versions of a page's resources that the caller may still see."""
        stored = await self.store.read_many(list(position.page))
        return [
            s
            for s in stored
            if access.permits(Permission.SEARCH, s.resource_type, s.patient, s.body)
        ]

    # -- writing ------------------------------------------------------------------------

    async def create(
        self,
        access: Access,
        resource_type: str,
        body: Any,
        if_none_exist: str | None,
    ) -> WriteResult:
        require_type(resource_type)
        resource = validate_resource(body, resource_type)
        async with self.store.transaction() as writer:
            return await self.create_in(
                writer, access, resource, if_none_exist, self._lookup(writer), ""
            )

    async def update(
        self,
        access: Access,
        resource_type: str,
        resource_id: str,
        body: Any,
        if_match: str | None,
    ) -> WriteResult:
        require_type(resource_type)
        resource = validate_resource(body, resource_type)
        async with self.store.transaction() as writer:
            return await self.update_in(
                writer, access, resource, resource_id, if_match, self._lookup(writer), ""
            )

    def _lookup(self, writer: Writer) -> CompartmentLookup:
        async def lookup(resource_type: str, resource_id: str) -> str | None:
            stored = await writer.read(resource_type, resource_id)
            return None if stored is None else stored.patient

        return lookup

    async def find_matches(
        self, writer: Writer, access: Access, resource_type: str, criteria: str, where: str
    ) -> list[StoredResource]:
        """Resources matching conditional-create criteria (``identifier=sys|val``) that the
        caller may see."""
        try:
            query = parse_search(
                resource_type, parse_qsl(criteria, keep_blank_values=True), self.fhir_base
            )
        except FhirError as exc:
            raise _located(exc, where, "If-None-Exist") from None
        if not query.criteria:
            raise FhirError.single(
                400, "invalid", "If-None-Exist must hold search criteria", where or "If-None-Exist"
            )
        return [
            s
            for s in await writer.candidates(resource_type, None)
            if matches(query, s.body, self.fhir_base, s.search_values)
            and access.permits(Permission.SEARCH, resource_type, s.patient, s.body)
        ]

    async def create_in(
        self,
        writer: Writer,
        access: Access,
        resource: dict[str, Any],
        if_none_exist: str | None,
        lookup: CompartmentLookup,
        where: str,
        *,
        assigned_id: str | None = None,
        check_references: bool = True,
    ) -> WriteResult:
        resource_type = str(resource["resourceType"])
        behaviour = self.behaviour()
        if if_none_exist and behaviour.conditional_create:
            found = await self.find_matches(writer, access, resource_type, if_none_exist, where)
            if len(found) > 1:
                raise FhirError.single(
                    412,
                    "multiple-matches",
                    f"If-None-Exist matches {len(found)} {resource_type} resources; "
                    "a conditional create needs at most one",
                    where or "If-None-Exist",
                )
            if found:
                access.require(Permission.READ, resource_type, found[0].patient, found[0].body)
                return WriteResult(found[0], created=False)
        self._refuse_create_if_configured(resource_type, where)
        body = copy.deepcopy(resource)
        body["id"] = assigned_id or str(uuid.uuid4())
        _strip_version(body)
        patient = await self._compartment(body, lookup)
        access.require(Permission.CREATE, resource_type, patient, body)
        if check_references and behaviour.check_references:
            await self.check_references(writer, body, where)
        stored = await writer.put(body, patient, self.clock())
        return WriteResult(stored, created=True)

    async def update_in(
        self,
        writer: Writer,
        access: Access,
        resource: dict[str, Any],
        resource_id: str,
        if_match: str | None,
        lookup: CompartmentLookup,
        where: str,
        *,
        check_references: bool = True,
    ) -> WriteResult:
        resource_type = str(resource["resourceType"])
        path = where or resource_type
        if not ID_PATTERN.fullmatch(resource_id):
            raise FhirError.single(400, "invalid", f"{resource_id!r} is not a valid id", path)
        if resource.get("id") != resource_id:
            raise FhirError.single(
                400,
                "invalid",
                f"{path}.id must equal the id in the URL ({resource_id!r}) in an update",
                f"{path}.id",
            )
        current = await writer.read(resource_type, resource_id)
        if if_match is not None:
            wanted = _parse_etag(if_match)
            if current is None or wanted != current.version:
                have = "does not exist" if current is None else f"is at version {current.version}"
                raise FhirError.single(
                    412,
                    "conflict",
                    f"If-Match asks for version {if_match.strip()} but {resource_type}/"
                    f"{resource_id} {have}",
                    where or "If-Match",
                )
        body = copy.deepcopy(resource)
        _strip_version(body)
        patient = await self._compartment(body, lookup)
        if current is None:
            self._refuse_create_if_configured(resource_type, where)
            access.require(Permission.CREATE, resource_type, patient, body)
        else:
            access.require(Permission.UPDATE, resource_type, current.patient, current.body)
            access.require(Permission.UPDATE, resource_type, patient, body)
        if check_references and self.behaviour().check_references:
            await self.check_references(writer, body, where)
        stored = await writer.put(body, patient, self.clock())
        return WriteResult(stored, created=current is None)

    def _refuse_create_if_configured(self, resource_type: str, where: str) -> None:
        behaviour = self.behaviour()
        if resource_type in behaviour.refuse_create:
            status = behaviour.refuse_create_status
            raise FhirError.single(
                status,
                "forbidden" if status == 403 else "not-supported",
                f"this server does not accept {resource_type} creates",
                where or resource_type,
            )

    async def _compartment(self, body: dict[str, Any], lookup: CompartmentLookup) -> str | None:
        direct = patient_reference_ids(body, self.fhir_base)
        if direct:
            return direct[0]
        if body.get("resourceType") == "Provenance":
            # A Provenance is in the compartment of the resources it is about.
            for target in body.get("target", []):
                local = local_reference(str(target.get("reference", "")), self.fhir_base)
                if local is not None and (patient := await lookup(*local)) is not None:
                    return patient
        return None

    async def check_references(self, writer: Writer, body: dict[str, Any], where: str) -> None:
        """422 if a reference to a resource type this server stores does not resolve."""
        root = where or str(body["resourceType"])
        problems: list[Issue] = []
        for reference in iter_references(body):
            text = str(reference["reference"])
            if text.startswith("#"):
                continue  # a contained resource
            local = local_reference(text, self.fhir_base)
            if local is None:
                if text.startswith("urn:"):
                    problems.append(
                        Issue(
                            "business-rule", f"{root}: reference {text} does not resolve", (root,)
                        )
                    )
                continue  # another server's resource: not ours to check
            if local[0] in RESOURCE_TYPES and await writer.read(*local) is None:
                problems.append(
                    Issue(
                        "business-rule",
                        f"{root}: reference {local[0]}/{local[1]} does not exist on this server",
                        (root,),
                    )
                )
        if problems:
            raise FhirError(422, problems)


def _strip_version(body: dict[str, Any]) -> None:
    meta = body.get("meta")
    if isinstance(meta, dict):
        meta = {k: v for k, v in meta.items() if k not in ("versionId", "lastUpdated")}
        if meta:
            body["meta"] = meta
        else:
            body.pop("meta", None)


def _named_patients(query: SearchQuery) -> set[str]:
    named: set[str] = set()
    for criterion in query.criteria:
        parameter = criterion.parameter
        for value in criterion.alternatives:
            if isinstance(value, ReferenceValue) and value.resource_type == "Patient":
                named.add(value.resource_id)
            elif query.resource_type == "Patient" and parameter.name == "_id":
                code = getattr(value, "code", None)
                if isinstance(code, str):
                    named.add(code)
    return named


def _located(error: FhirError, where: str, element: str) -> FhirError:
    place = where or element
    issues = [Issue(i.code, f"{place}: {i.diagnostics}", (place,)) for i in error.issues]
    return FhirError(error.status, issues, error.headers)
