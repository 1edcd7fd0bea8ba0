"""A CDS Hooks 2.0 call of order-select or order-sign, read and checked (pure).

CDS Hooks 2.0 §Calling a CDS Service; hook library STU1 order-select 1.0 and order-sign 1.1.
Every broken rule is collected with the field at fault and raised together as a
`CdsRequestInvalidError` (400). Context fields the hook does not define are ignored (clients
add their own), and so are prefetch keys we never asked for. The access token is kept out of
`repr` so it cannot reach a log by accident.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import orjson

from plugin.cds_hooks.errors import CdsRequestInvalidError
from plugin.errors import Problem

__all__ = [
    "FHIR_ID",
    "FhirAuthorization",
    "Hook",
    "HookContext",
    "HookRequest",
    "is_loopback_host",
    "parse_hook_request",
    "parse_json_body",
]

#: FHIR R4 id datatype.
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_REFERENCE = re.compile(r"([A-Z][A-Za-z]{1,63})/([A-Za-z0-9\-.]{1,64})")
_USER_TYPES = ("Practitioner", "PractitionerRole")


class Hook(StrEnum):
    ORDER_SELECT = "order-select"
    ORDER_SIGN = "order-sign"


@dataclass(frozen=True, slots=True)
class FhirAuthorization:
    access_token: str = field(repr=False)
    token_type: str
    expires_in: int
    scope: str
    subject: str
    patient: str | None = None


@dataclass(frozen=True, slots=True)
class HookContext:
    user_id: str
    patient_id: str
    encounter_id: str | None
    draft_orders: tuple[Mapping[str, Any], ...]  # the draftOrders Bundle's resources
    selections: tuple[str, ...] | None = None  # order-select only; None: every draft in focus

    def prefetch_tokens(self) -> dict[str, str]:
        """Context fields usable as prefetch tokens (root-level strings the hook marks so)."""
        tokens = {"patientId": self.patient_id, "userId": self.user_id}
        if self.encounter_id is not None:
            tokens["encounterId"] = self.encounter_id
        return tokens


@dataclass(frozen=True, slots=True)
class HookRequest:
    hook: Hook
    hook_instance: str
    context: HookContext
    fhir_server: str | None = None
    fhir_authorization: FhirAuthorization | None = None
    prefetch: Mapping[str, Any] = field(default_factory=dict)


def is_loopback_host(host: str | None) -> bool:
    return host in ("localhost", "::1") or (host or "").startswith("127.")


def parse_json_body(body: bytes) -> Any:
    """The decoded JSON body (UTF-8, RFC 8259); a `CdsRequestInvalidError` when it is not JSON
    (the error never quotes the body: it may hold patient data). orjson decodes a prefetch of
    megabytes several times faster than the standard library."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        where = f" (line {exc.lineno}, column {exc.colno})"
    raise CdsRequestInvalidError(
        [Problem("", "json", f"the request body is not valid JSON{where}")]
    )


class _Checker:
    """Collects problems while reading a decoded body."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, rule: str, message: str) -> None:
        self.problems.append(Problem(path, rule, message))

    def string(
        self, data: Mapping[str, Any], name: str, path: str, *, required: bool
    ) -> str | None:
        value = data.get(name)
        if value is None:
            if name in data:
                self.add(path, "not-null", "must not be null (leave the field out instead)")
            elif required:
                self.add(path, "required", "is required")
            return None
        if not isinstance(value, str):
            self.add(path, "type", f"must be a string (got {_json_type(value)})")
            return None
        if not value.strip():
            self.add(path, "not-empty", "must not be empty")
            return None
        return value

    def obj(self, data: Mapping[str, Any], name: str, path: str, *, required: bool) -> Any:
        value = data.get(name)
        if value is None:
            if name in data:
                self.add(path, "not-null", "must not be null (leave the field out instead)")
            elif required:
                self.add(path, "required", "is required")
            return None
        if not isinstance(value, dict):
            self.add(path, "type", f"must be a JSON object (got {_json_type(value)})")
            return None
        return value


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"


def _hook_instance(check: _Checker, data: Mapping[str, Any]) -> str:
    value = check.string(data, "hookInstance", "hookInstance", required=True)
    if value is None:
        return ""
    try:
        uuid.UUID(value.removeprefix("urn:uuid:"))
    except ValueError:
        check.add("hookInstance", "uuid", "must be a UUID such as d1577c69-dfbe-44ad-ba6d-…")
    return value


def _fhir_server(
    check: _Checker, data: Mapping[str, Any], allow_plain_http_loopback: bool
) -> str | None:
    value = check.string(data, "fhirServer", "fhirServer", required=False)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        check.add("fhirServer", "url", "must be an absolute https URL without query or fragment")
        return None
    if parts.scheme == "http" and not (
        allow_plain_http_loopback and is_loopback_host(parts.hostname)
    ):
        # The access token travels to this server: TLS only (CDS Hooks 2.0 §Security).
        check.add("fhirServer", "https", "must use https: the access token is sent to it")
        return None
    return value.rstrip("/")


def _fhir_authorization(check: _Checker, data: Mapping[str, Any]) -> FhirAuthorization | None:
    auth = check.obj(data, "fhirAuthorization", "fhirAuthorization", required=False)
    if auth is None:
        return None
    before = len(check.problems)
    path = "fhirAuthorization"
    token = check.string(auth, "access_token", f"{path}.access_token", required=True)
    token_type = check.string(auth, "token_type", f"{path}.token_type", required=True)
    if token_type is not None and token_type.lower() != "bearer":
        check.add(f"{path}.token_type", "bearer", "must be Bearer")
    expires_in = auth.get("expires_in")
    if expires_in is None:
        check.add(f"{path}.expires_in", "required", "is required")
    elif isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in < 0:
        check.add(f"{path}.expires_in", "type", "must be a whole number of seconds, 0 or more")
    scope = check.string(auth, "scope", f"{path}.scope", required=True)
    subject = check.string(auth, "subject", f"{path}.subject", required=True)
    patient = check.string(auth, "patient", f"{path}.patient", required=False)
    if "fhirServer" not in data:
        # cds-r-1: fhirAuthorization ⇒ fhirServer.
        check.add("fhirServer", "required", "is required when fhirAuthorization is given")
    if len(check.problems) > before:
        return None
    assert token is not None and token_type is not None and scope is not None
    assert subject is not None and isinstance(expires_in, int)
    return FhirAuthorization(token, token_type, expires_in, scope, subject, patient)


def _user_id(check: _Checker, context: Mapping[str, Any]) -> str:
    value = check.string(context, "userId", "context.userId", required=True)
    if value is None:
        return ""
    match = _REFERENCE.fullmatch(value)
    if match is None or match.group(1) not in _USER_TYPES:
        check.add(
            "context.userId",
            "user-reference",
            "must be Practitioner/[id] or PractitionerRole/[id]",
        )
    return value


def _fhir_id(
    check: _Checker, context: Mapping[str, Any], name: str, *, required: bool
) -> str | None:
    path = f"context.{name}"
    value = check.string(context, name, path, required=required)
    if value is not None and not FHIR_ID.fullmatch(value):
        check.add(path, "fhir-id", "must be a FHIR id (letters, digits, '-' and '.', 1–64)")
        return None
    return value


def _draft_orders(check: _Checker, context: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
    path = "context.draftOrders"
    bundle = check.obj(context, "draftOrders", path, required=True)
    if bundle is None:
        return ()
    if bundle.get("resourceType") != "Bundle":
        check.add(f"{path}.resourceType", "bundle", "draftOrders must be a FHIR Bundle")
        return ()
    # Bundle.type is "collection" in the hook library's examples; some clients leave it out.
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        check.add(f"{path}.entry", "type", "must be an array")
        return ()
    resources: list[Mapping[str, Any]] = []
    for index, entry in enumerate(entries):
        where = f"{path}.entry[{index}]"
        if not isinstance(entry, dict):
            check.add(where, "type", "must be an object")
            continue
        resource = entry.get("resource")
        if not isinstance(resource, dict):
            check.add(f"{where}.resource", "required", "must be a FHIR resource")
            continue
        if not isinstance(resource.get("resourceType"), str) or not resource["resourceType"]:
            check.add(f"{where}.resource.resourceType", "required", "is required")
            continue
        resources.append(resource)
    return tuple(resources)


def _selections(
    check: _Checker, context: Mapping[str, Any], drafts: tuple[Mapping[str, Any], ...]
) -> tuple[str, ...] | None:
    """The selected orders; None when the client sends no selections (optional in the hook
    library's order-select 1.0), which puts every draft in focus."""
    path = "context.selections"
    if "selections" not in context:
        return None
    value = context["selections"]
    if value is None:
        check.add(path, "not-null", "must not be null (leave the field out instead)")
        return ()
    if not isinstance(value, list) or not value:
        check.add(path, "type", "must be a non-empty array of Type/id references")
        return ()
    drafted = {
        f"{r.get('resourceType')}/{r.get('id')}" for r in drafts if isinstance(r.get("id"), str)
    }
    selected: list[str] = []
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(item, str) or _REFERENCE.fullmatch(item) is None:
            check.add(where, "reference", "must be a Type/id reference such as ServiceRequest/123")
            continue
        if item not in drafted:
            # ord-1: each selection points at an order in draftOrders.
            check.add(where, "in-draft-orders", f"{item} is not among context.draftOrders")
            continue
        selected.append(item)
    return tuple(selected)


def _context(check: _Checker, data: Mapping[str, Any], hook: Hook) -> HookContext | None:
    context = check.obj(data, "context", "context", required=True)
    if context is None:
        return None
    user_id = _user_id(check, context)
    patient_id = _fhir_id(check, context, "patientId", required=True) or ""
    encounter_id = _fhir_id(check, context, "encounterId", required=False)
    drafts = _draft_orders(check, context)
    selections = _selections(check, context, drafts) if hook is Hook.ORDER_SELECT else None
    return HookContext(user_id, patient_id, encounter_id, drafts, selections)


def parse_hook_request(
    data: Any, expected: Hook, *, allow_plain_http_loopback: bool = False
) -> HookRequest:
    """The call, checked against CDS Hooks 2.0 and the `expected` hook's context rules.
    `allow_plain_http_loopback` accepts an http fhirServer on the loopback host (development)."""
    if not isinstance(data, dict):
        raise CdsRequestInvalidError(
            [Problem("", "type", f"the request must be a JSON object (got {_json_type(data)})")]
        )
    check = _Checker()
    hook_name = check.string(data, "hook", "hook", required=True)
    if hook_name is not None and hook_name != expected.value:
        check.add(
            "hook", "hook-mismatch", f"this service answers {expected.value}, not {hook_name!r}"
        )
    hook_instance = _hook_instance(check, data)
    fhir_server = _fhir_server(check, data, allow_plain_http_loopback)
    authorization = _fhir_authorization(check, data)
    context = _context(check, data, expected)
    if (
        authorization is not None
        and authorization.patient is not None
        and context is not None
        and authorization.patient != context.patient_id
    ):
        check.add(
            "fhirAuthorization.patient",
            "same-patient",
            "names another patient than context.patientId",
        )
    prefetch = check.obj(data, "prefetch", "prefetch", required=False)
    extension = data.get("extension")
    if extension is not None and not isinstance(extension, dict):
        check.add("extension", "type", "must be a JSON object")
    if check.problems or context is None:
        raise CdsRequestInvalidError(check.problems)
    return HookRequest(
        hook=expected,
        hook_instance=hook_instance,
        context=context,
        fhir_server=fhir_server,
        fhir_authorization=authorization,
        prefetch=prefetch or {},
    )
