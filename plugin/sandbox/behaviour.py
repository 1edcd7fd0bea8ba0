"""Switches that make the sandbox behave like a particular real EHR, and the fault-injection
hook tests use to make it fail the way real EHRs do.

Real servers differ: Epic has no transactions and ignores `If-None-Exist`; Oracle Health
refuses most DiagnosticReport creates; any server may answer slowly, fail, or commit a write
and then lose the response. `SandboxBehaviour` covers the first kind; `fault` covers the rest:
it is consulted once per request and may return a `Fault` saying what to do instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "CannedResponse",
    "Fault",
    "FaultHook",
    "Interaction",
    "SandboxBehaviour",
    "SandboxRequest",
]


class Interaction(StrEnum):
    """What a request to the sandbox does (FHIR RESTful interaction names, plus `token`)."""

    CAPABILITIES = "capabilities"
    READ = "read"
    VREAD = "vread"
    HISTORY = "history-instance"
    SEARCH = "search-type"
    CREATE = "create"
    UPDATE = "update"
    TRANSACTION = "transaction"
    TOKEN = "token"  # noqa: S105 — the authorization server's token endpoint


@dataclass(frozen=True, slots=True)
class SandboxRequest:
    """What the fault hook is told about a request. Never logged (it may hold patient data)."""

    interaction: Interaction
    method: str
    path: str  # relative to the FHIR base (``Observation/123``), or ``auth/token``
    resource_type: str | None = None
    resource_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names, no Authorization
    body: Any = None  # the decoded JSON body of a create, update or transaction


class CannedResponse(BaseModel):
    """A response the sandbox sends instead of the real one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Annotated[int, Field(ge=100, le=599)]
    body: dict[str, Any] | None = None  # sent as application/fhir+json when present
    headers: dict[str, str] = Field(default_factory=dict)


class Fault(BaseModel):
    """What to do with one request instead of serving it normally.

    `delay_seconds` waits first (a slow EHR; combine with a client timeout to simulate a
    timeout). Then at most one of: `respond` answers without doing anything (the write never
    happened), or `after_commit` does the interaction, commits it, and answers this instead
    (the write happened but the client never learns it — the case exactly-once write-back
    must reconcile).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    delay_seconds: Annotated[float, Field(ge=0, le=600)] = 0.0
    respond: CannedResponse | None = None
    after_commit: CannedResponse | None = None

    @model_validator(mode="after")
    def _one_outcome(self) -> Fault:
        if self.respond is not None and self.after_commit is not None:
            raise ValueError("a fault may set respond or after_commit, not both")
        return self


#: Consulted once per FHIR request (and token request); ``None`` means serve normally. A hook
#: that raises aborts the request: httpx's ASGITransport re-raises the exception in the client
#: (a dropped connection, in effect); a real server answers 500.
FaultHook = Callable[[SandboxRequest], Fault | None]


class SandboxBehaviour(BaseModel):
    """How the FHIR server departs from its full feature set, like a real EHR would."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Accept `transaction` Bundles (advertised in the CapabilityStatement when on).
    transactions: bool = True
    #: Honour `If-None-Exist`; when off the header is ignored and a create always creates,
    #: as Epic does.
    conditional_create: bool = True
    #: Refuse a write whose references to this server's resources do not resolve (422).
    #: US Core's clinical-notes guidance asks servers not to; turn off to behave that way.
    check_references: bool = True
    #: Resource types whose create is refused (e.g. ``{"DiagnosticReport"}``), with this status.
    refuse_create: frozenset[str] = frozenset()
    refuse_create_status: Literal[403, 405] = 403
    #: Body of a successful create or update when the client sends no `Prefer` header:
    #: Epic answers with an empty body unless asked for the representation.
    default_return: Literal["representation", "minimal"] = "representation"
    #: Report resource versions (meta.versionId, ETag, `_history` locations) and honour
    #: `If-Match`. Off: no version anywhere and If-Match ignored, as some EHRs do.
    versions: bool = True
    fault: FaultHook | None = None
