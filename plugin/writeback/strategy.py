"""Which way a signed report goes into a given EHR, decided from what its FHIR server declares
(CapabilityStatement), what the registration asks for (`write_mode`) and what the user's
sign-in granted (SMART scopes) — and the same decision in words for the status page.

    full          one transaction Bundle: Procedure, level Observations, DiagnosticReport,
                  DocumentReference, Provenance — all or nothing
    per-resource  the same resources created one by one, in reference order
    document      a clinical note (DocumentReference) only, as Epic and Oracle Health accept a
                  procedure report (shared/standards.md §5)

Exactly-once needs a way to find a resource already filed: the server's conditional create
(`If-None-Exist`) or a search on the product's identifier. A strategy is chosen only when
every resource it must write can be checked that way (Provenance, optional outside a
transaction, is left out rather than risk a second copy).

Pure: no I/O. The server's declarations come in through `ServerFeatures`, which
`smart_app.capabilities.ServerCapabilities` satisfies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol

from plugin.errors import InputProblemError, Problem

__all__ = [
    "REPORT_TYPES",
    "STRUCTURED_TYPES",
    "LookupMethod",
    "ServerFeatures",
    "StrategyDecision",
    "WriteAccess",
    "WriteStrategy",
    "choose_strategy",
]

#: What the full and per-resource strategies write; the document strategy writes only the last.
STRUCTURED_TYPES = ("Procedure", "Observation", "DiagnosticReport", "DocumentReference")
#: Every type a signed report may write.
REPORT_TYPES = (*STRUCTURED_TYPES, "Provenance")

_MODES = ("auto", "full", "document", "per-resource")


class WriteStrategy(StrEnum):
    FULL = "full"
    PER_RESOURCE = "per-resource"
    DOCUMENT = "document"


class LookupMethod(StrEnum):
    """How the writer makes sure a resource is not already in the chart before creating it."""

    CONDITIONAL_CREATE = "conditional-create"  # If-None-Exist: the server checks, atomically
    IDENTIFIER_SEARCH = "identifier-search"  # search on our identifier (or _tag), then create
    NONE = "none"  # no way to check: an interrupted create is never retried blindly


class ServerFeatures(Protocol):
    """What a FHIR server declares (`smart_app.capabilities.ServerCapabilities` fits)."""

    @property
    def supports_transaction(self) -> bool: ...

    @property
    def lists_resources(self) -> bool: ...

    def can_create(self, resource_type: str) -> bool: ...

    def can_update(self, resource_type: str) -> bool: ...

    def can_search(self, resource_type: str) -> bool: ...

    def conditional_create(self, resource_type: str) -> bool: ...

    def search_params(self, resource_type: str) -> frozenset[str]: ...


@dataclass(frozen=True, slots=True)
class WriteAccess:
    """The resource types the user's sign-in lets the app create, update and search."""

    create: frozenset[str] = frozenset()
    update: frozenset[str] = frozenset()
    search: frozenset[str] = frozenset()

    @classmethod
    def from_checks(
        cls,
        can_create: Callable[[str], bool],
        can_update: Callable[[str], bool],
        can_search: Callable[[str], bool],
    ) -> WriteAccess:
        """From per-type checks (e.g. `smart_app.scopes.GrantedAccess`), over REPORT_TYPES."""
        return cls(
            create=frozenset(t for t in REPORT_TYPES if can_create(t)),
            update=frozenset(t for t in REPORT_TYPES if can_update(t)),
            search=frozenset(t for t in REPORT_TYPES if can_search(t)),
        )


@dataclass(frozen=True, slots=True)
class StrategyDecision:
    """The chosen strategy (None: the report cannot be written to this EHR as things stand)
    with, per type, how a resource is looked up before it is created, whether it may be
    updated (amendments), and the explanation for the status page."""

    strategy: WriteStrategy | None
    summary: str
    reasons: tuple[str, ...] = ()
    lookups: Mapping[str, LookupMethod] = field(default_factory=dict)
    updatable: frozenset[str] = frozenset()
    include_provenance: bool = True
    notes: tuple[str, ...] = ()

    @property
    def available(self) -> bool:
        return self.strategy is not None

    @property
    def explanation(self) -> str:
        """The decision in a few sentences: why not something richer, then what is done."""
        return " ".join((*(_sentence(r) for r in self.reasons), _sentence(self.summary)))

    def lookup(self, resource_type: str) -> LookupMethod:
        return self.lookups.get(resource_type, LookupMethod.NONE)


def choose_strategy(
    features: ServerFeatures, access: WriteAccess, mode: str = "auto"
) -> StrategyDecision:
    """Decide how to write a report. `mode` is the registration's `write_mode`: ``auto``
    picks the richest strategy this EHR and this sign-in allow; a forced mode trusts the
    registration over the CapabilityStatement (statements are often incomplete) but never
    over the granted scopes.
    """
    if mode not in _MODES:
        raise InputProblemError(
            [
                Problem(
                    "write_mode", "allowed-values", f"must be one of {', '.join(_MODES)} ({mode!r})"
                )
            ],
            "write-back configuration",
        )
    forced = None if mode == "auto" else WriteStrategy(mode)
    view = _View(features, access, trust_registration=forced is not None)
    if forced is not None:
        gaps = view.gaps(forced)
        if gaps:
            return StrategyDecision(
                None,
                f"The registration asks for the {forced.value} write-back strategy, which "
                "cannot be used",
                gaps,
            )
        return view.decision(
            forced, (f"The registration asks for the {forced.value} write-back strategy",)
        )
    skipped: list[str] = []
    for strategy in (WriteStrategy.FULL, WriteStrategy.PER_RESOURCE, WriteStrategy.DOCUMENT):
        gaps = view.gaps(strategy)
        if not gaps:
            return view.decision(strategy, tuple(dict.fromkeys(skipped)))
        skipped.extend(gaps)
    return StrategyDecision(
        None, "The report cannot be written to this EHR", tuple(dict.fromkeys(skipped))
    )


class _View:
    """The server and grant facts the rules need, with the wording of each gap."""

    def __init__(
        self, features: ServerFeatures, access: WriteAccess, *, trust_registration: bool
    ) -> None:
        self.features = features
        self.access = access
        # Nothing is known of a server whose statement lists no resources; a forced mode
        # vouches for the server instead.
        self.forced = trust_registration
        self.trust_server = trust_registration or not features.lists_resources
        self.unknown_server = not features.lists_resources

    def server_creates(self, resource_type: str) -> bool:
        return self.trust_server or self.features.can_create(resource_type)

    def lookup(self, resource_type: str) -> LookupMethod:
        if resource_type not in self.access.search:
            # Without search access we cannot reconcile, and a server may match
            # If-None-Exist only against what the token may see.
            return LookupMethod.NONE
        if not self.unknown_server and self.features.conditional_create(resource_type):
            return LookupMethod.CONDITIONAL_CREATE
        if self.trust_server or self._searchable(resource_type):
            return LookupMethod.IDENTIFIER_SEARCH
        return LookupMethod.NONE

    def _searchable(self, resource_type: str) -> bool:
        if not self.features.can_search(resource_type):
            return False
        params = self.features.search_params(resource_type)
        wanted = "_tag" if resource_type == "Provenance" else "identifier"
        return not params or wanted in params  # no list at all: assume the standard ones

    def updatable(self) -> frozenset[str]:
        return frozenset(
            t
            for t in REPORT_TYPES
            if t in self.access.update and (self.trust_server or self.features.can_update(t))
        )

    def create_gaps(self, resource_type: str) -> list[str]:
        gaps = []
        if not self.server_creates(resource_type):
            gaps.append(f"This EHR does not accept {resource_type}")
        if resource_type not in self.access.create:
            gaps.append(f"The access granted at sign-in does not allow creating {resource_type}")
        return gaps

    def lookup_gap(self, resource_type: str) -> list[str]:
        if self.lookup(resource_type) is not LookupMethod.NONE:
            return []
        if resource_type not in self.access.search:
            return [
                f"The access granted at sign-in does not allow searching {resource_type}, so "
                "the app could not check for a copy already filed"
            ]
        return [
            f"This EHR offers no way to find a {resource_type} by the app's identifier, so a "
            "retry could file it twice"
        ]

    def gaps(self, strategy: WriteStrategy) -> tuple[str, ...]:
        gaps: list[str] = []
        if strategy is WriteStrategy.DOCUMENT:
            gaps.extend(self.create_gaps("DocumentReference"))
            return tuple(gaps)
        if self.unknown_server and not self.forced:
            return ("The EHR's CapabilityStatement does not say which resources it accepts",)
        if strategy is WriteStrategy.FULL and not (
            self.trust_server or self.features.supports_transaction
        ):
            gaps.append("This EHR does not accept FHIR transactions")
        for resource_type in STRUCTURED_TYPES:
            gaps.extend(self.create_gaps(resource_type))
            gaps.extend(self.lookup_gap(resource_type))
        if strategy is WriteStrategy.FULL:
            # Provenance belongs to the transaction; its presence follows from the others'.
            gaps.extend(self.create_gaps("Provenance"))
        return tuple(gaps)

    def decision(self, strategy: WriteStrategy, reasons: tuple[str, ...]) -> StrategyDecision:
        lookups = MappingProxyType({t: self.lookup(t) for t in REPORT_TYPES})
        notes: list[str] = []
        include_provenance = True
        if strategy is WriteStrategy.PER_RESOURCE:
            provenance_gaps = self.create_gaps("Provenance") + self.lookup_gap("Provenance")
            if provenance_gaps:
                include_provenance = False
                notes.append(
                    "No Provenance is written: "
                    + provenance_gaps[0][0].lower()
                    + provenance_gaps[0][1:]
                )
        if strategy is WriteStrategy.DOCUMENT and lookups["DocumentReference"] is LookupMethod.NONE:
            notes.append(
                "The EHR offers the app no way to check for a note already filed: if the "
                "connection breaks while the note is sent, the app stops and asks you to check "
                "the chart before sending it again"
            )
        if strategy is WriteStrategy.DOCUMENT:
            include_provenance = False
        return StrategyDecision(
            strategy,
            _SUMMARIES[strategy],
            reasons,
            lookups,
            self.updatable(),
            include_provenance,
            tuple(notes),
        )


_SUMMARIES = {
    WriteStrategy.FULL: "The report is filed in one FHIR transaction (procedure, level results, "
    "diagnostic report, clinical note and provenance), all or nothing",
    WriteStrategy.PER_RESOURCE: "The report is filed resource by resource (procedure, level "
    "results, diagnostic report, clinical note), each checked against the chart first so none "
    "is filed twice",
    WriteStrategy.DOCUMENT: "The report is filed as a clinical note (DocumentReference); the "
    "level results stay in the note and in this app",
}


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else f"{text}."
