"""The write plan: exactly what the outbox will send to one EHR for one signed version — the
strategy, the ordered steps, and for each step the resource, its identity, how it is looked
up before it is created, the references to rewrite once earlier steps have server ids, and
whether a resend after a lost answer is safe.

A plan is made once per outbox item and stored with it, so every retry follows the same plan.
Pure: no I/O.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from plugin.errors import InputProblemError, Problem
from plugin.fhir_mapping.identifiers import IDENTIFIER_SYSTEM
from plugin.writeback.amendment import (
    KnownResource,
    amended,
    attributed_provenance,
    document_token_version,
    entered_in_error,
    latest_document,
    replacing_document,
    superseded,
    version_identity,
    versioned_provenance,
)
from plugin.writeback.frozen_report import FrozenEntry, FrozenReport
from plugin.writeback.references import placeholders_in
from plugin.writeback.strategy import LookupMethod, StrategyDecision, WriteStrategy

__all__ = [
    "TEXT_ONLY",
    "KnownReference",
    "ReferenceRewrite",
    "StepAction",
    "StepRole",
    "WritePlan",
    "WriteStep",
    "build_plan",
    "full_url_of",
]

#: The attachment types a clinical note carries when the registration says nothing more:
#: text/plain is what every EHR accepts (Epic: only that, one attachment).
TEXT_ONLY = frozenset({"text/plain"})

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class StepAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"


class StepRole(StrEnum):
    """What a step does to the chart, in the words of the status page."""

    PROCEDURE = "procedure"
    LEVEL = "level result"
    REPORT = "diagnostic report"
    DOCUMENT = "clinical note"
    PROVENANCE = "provenance"
    SUPERSEDE = "previous note superseded"
    RETRACT = "level result withdrawn"
    LINK = "links to later resources"


_ROLES = {
    "Procedure": StepRole.PROCEDURE,
    "Observation": StepRole.LEVEL,
    "DiagnosticReport": StepRole.REPORT,
    "DocumentReference": StepRole.DOCUMENT,
    "Provenance": StepRole.PROVENANCE,
}


class ReferenceRewrite(BaseModel):
    """Replace `placeholder` (a ``urn:uuid:`` of the frozen Bundle) with the ``Type/id`` the
    chart gave the resource identified by `target` (a token ``system|value``)."""

    model_config = _FROZEN

    placeholder: str
    target: str


class KnownReference(BaseModel):
    """A resource an earlier version put in the chart."""

    model_config = _FROZEN

    resource_type: str
    id: str
    version: str | None = None
    # What the earlier version wrote, kept only when the EHR reported no version: an update
    # then cannot use If-Match, and checks the chart's copy against this instead.
    written: dict[str, Any] | None = None

    @property
    def reference(self) -> str:
        return f"{self.resource_type}/{self.id}"


class WriteStep(BaseModel):
    """One write. `key` is unique in the plan and keys the ledger; `token` identifies the
    resource in the chart (``system|value``, searched with `search_parameter`). An update
    writes the resource the ledger (or `WritePlan.known`) records for `token`, with
    `If-Match` on `if_match` when given, else on the version recorded by an earlier step."""

    model_config = _FROZEN

    key: str
    token: str
    resource_type: str
    role: StepRole
    action: StepAction
    body: dict[str, Any]
    search_parameter: str = "identifier"
    lookup: LookupMethod = LookupMethod.NONE
    conditional: bool = False  # send If-None-Exist
    full_url: str | None = None  # the placeholder other resources use for this one
    rewrites: tuple[ReferenceRewrite, ...] = ()
    deferred: tuple[str, ...] = ()  # placeholders left out: the target is not in the chart yet
    if_match: str | None = None
    retry_safe: bool = True

    @property
    def search(self) -> tuple[str, str]:
        """The search that finds this resource in a chart: (parameter, ``system|value``)."""
        return self.search_parameter, self.token

    @property
    def if_none_exist(self) -> str:
        return f"{self.search_parameter}={self.token}"


class WritePlan(BaseModel):
    model_config = _FROZEN

    strategy: WriteStrategy
    version: int = Field(ge=1)
    study_key: str
    content_hash: str
    explanation: str
    notes: tuple[str, ...] = ()
    steps: tuple[WriteStep, ...]
    known: dict[str, KnownReference] = Field(default_factory=dict)

    @property
    def transaction(self) -> bool:
        return self.strategy is WriteStrategy.FULL

    @property
    def placeholders(self) -> dict[str, str]:
        """Placeholder → token, for every step and known resource."""
        found = {full_url_of(token): token for token in self.known}
        found.update({s.full_url: s.token for s in self.steps if s.full_url is not None})
        return found

    def step(self, key: str) -> WriteStep:
        return next(s for s in self.steps if s.key == key)


def full_url_of(token: str) -> str:
    """The ``urn:uuid:`` fullUrl the mapping gives the resource identified by `token`
    (uuid5 of the token; see `plugin.fhir_mapping.identifiers.ResourceIdentity`)."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, token)}"


def build_plan(
    report: FrozenReport,
    decision: StrategyDecision,
    *,
    version: int,
    previous: Mapping[str, KnownResource] | None = None,
    document_content_types: frozenset[str] = TEXT_ONLY,
) -> WritePlan:
    """The plan for writing signed version `version` of a report with the chosen strategy.

    `previous` holds what earlier versions put in the chart (token → id, version, body sent),
    making this an amendment of those resources. `document_content_types` are the attachment
    media types the EHR accepts in a clinical note filed alone (document strategy; text/plain
    is always kept).
    """
    if decision.strategy is None:
        raise ValueError("no write strategy was available; nothing to plan")
    if decision.strategy is WriteStrategy.DOCUMENT:
        _require_encounter(report)
    builder = _Builder(report, decision, version, previous or {}, document_content_types)
    steps = builder.steps()
    steps = steps if decision.strategy is WriteStrategy.FULL else _with_link_steps(steps, decision)
    steps = _with_rewrites(steps, builder.known_tokens, decision.strategy)
    return WritePlan(
        strategy=decision.strategy,
        version=version,
        study_key=report.study_key,
        content_hash=report.content_hash,
        explanation=_amendment_explanation(decision, steps) if previous else decision.explanation,
        notes=tuple(dict.fromkeys((*decision.notes, *builder.notes))),
        steps=tuple(steps),
        known={
            token: KnownReference(
                resource_type=k.resource_type,
                id=k.id,
                version=k.version,
                written=dict(k.body) if k.version is None and k.body is not None else None,
            )
            for token, k in builder.previous.items()
        },
    )


class _Builder:
    def __init__(
        self,
        report: FrozenReport,
        decision: StrategyDecision,
        version: int,
        previous: Mapping[str, KnownResource],
        content_types: frozenset[str],
    ) -> None:
        self.report = report
        self.decision = decision
        self.version = version
        self.previous = dict(previous)
        self.content_types = content_types | TEXT_ONLY
        self.notes: list[str] = []
        self.entries = report.entries()
        self.known_tokens = frozenset(self.previous)

    def steps(self) -> list[WriteStep]:
        steps: list[WriteStep] = []
        structured = self.decision.strategy is not WriteStrategy.DOCUMENT
        for entry in self.entries:
            if entry.resource_type == "DocumentReference":
                steps.extend(self.document_steps(entry))
            elif entry.resource_type == "Provenance":
                continue  # last, after any withdrawn level
            elif structured:
                steps.extend(self.structured_step(entry))
        if structured:
            steps.extend(self.withdrawn_levels())
            steps.extend(self.provenance_step(steps))
        elif any(document_token_version(t, self.report.study_key) is None for t in self.previous):
            self.notes.append(
                "The structured results filed earlier (diagnostic report, level results) are not "
                "changed by a clinical note; the new note replaces the previous one"
            )
        return steps

    def create(
        self, entry: FrozenEntry, body: dict[str, Any], token: str | None = None
    ) -> WriteStep:
        lookup = self.decision.lookup(entry.resource_type)
        token = token or entry.token
        return WriteStep(
            key=token,
            token=token,
            resource_type=entry.resource_type,
            role=_ROLES[entry.resource_type],
            action=StepAction.CREATE,
            body=body,
            search_parameter=entry.search_parameter,
            lookup=lookup,
            conditional=lookup is LookupMethod.CONDITIONAL_CREATE,
            full_url=entry.full_url,
            retry_safe=lookup is not LookupMethod.NONE,
        )

    def update(
        self, known: KnownResource, body: dict[str, Any], role: StepRole, full_url: str | None
    ) -> WriteStep:
        return WriteStep(
            key=known.token,
            token=known.token,
            resource_type=known.resource_type,
            role=role,
            action=StepAction.UPDATE,
            body=body,
            search_parameter="_tag" if known.resource_type == "Provenance" else "identifier",
            full_url=full_url,
            if_match=known.version,
        )

    def updatable(self, resource_type: str) -> bool:
        return resource_type in self.decision.updatable

    def structured_step(self, entry: FrozenEntry) -> list[WriteStep]:
        known = self.previous.get(entry.token)
        body = dict(copy.deepcopy(entry.resource))
        if known is None:
            return [self.create(entry, body)]
        if known.body is not None and _same_content(known.body, body):
            return []  # unchanged since the version in the chart
        if not self.updatable(entry.resource_type):
            self.notes.append(
                f"This EHR does not let the app update {entry.resource_type}: the "
                f"{_ROLES[entry.resource_type].value} filed earlier stays as it was; the new "
                "clinical note carries the changes"
            )
            return []
        return [
            self.update(known, amended(body, known.id), _ROLES[entry.resource_type], entry.full_url)
        ]

    def document_steps(self, entry: FrozenEntry) -> list[WriteStep]:
        body = dict(copy.deepcopy(entry.resource))
        if self.decision.strategy is WriteStrategy.DOCUMENT:
            # A server taking the whole report takes its renderings; a notes-only EHR may
            # take text/plain alone (Epic), so the note carries what it is registered to take.
            body = _document_content(body, self.content_types)
        previous_note = latest_document(self.previous, self.report.study_key)
        value = version_identity(entry.identifier_value, self.version)
        token = f"{IDENTIFIER_SYSTEM}|{value}"
        if previous_note is not None and previous_note.token == token:
            # This very version's note is already in the chart (a plan remade on retry).
            return []
        if previous_note is not None or value != entry.identifier_value:
            body = replacing_document(body, value, previous_note)
            if previous_note is None:
                body["docStatus"] = entry.resource.get("docStatus", "final")
        steps = [self.create(entry, body, token)]
        if previous_note is None:
            return steps
        if previous_note.body is None or not self.updatable("DocumentReference"):
            self.notes.append(
                "The previous clinical note stays 'current' in the EHR (the app may not update "
                "notes there); the new note says it replaces it"
            )
            return steps
        steps.append(
            self.update(
                previous_note,
                superseded(previous_note.body, previous_note.id),
                StepRole.SUPERSEDE,
                None,
            )
        )
        return steps

    def withdrawn_levels(self) -> list[WriteStep]:
        current = {e.token for e in self.entries}
        prefix = f"{IDENTIFIER_SYSTEM}|{self.report.study_key}.level."
        steps = []
        for token, known in self.previous.items():
            if not token.startswith(prefix) or token in current or known.body is None:
                continue
            if known.body.get("status") == "entered-in-error":
                continue
            if not self.updatable("Observation"):
                self.notes.append(
                    "A level no longer in the report stays in the EHR as it was (the app may not "
                    "update Observation there); the new clinical note lists the levels tested"
                )
                continue
            steps.append(
                self.update(known, entered_in_error(known.body, known.id), StepRole.RETRACT, None)
            )
        return steps

    def provenance_step(self, written: list[WriteStep]) -> list[WriteStep]:
        """The Provenance of this version, naming exactly the resources its steps write."""
        if not self.decision.include_provenance:
            return []
        entry = next((e for e in self.entries if e.resource_type == "Provenance"), None)
        if entry is None:
            return []
        value = version_identity(entry.identifier_value, self.version)
        token = f"{IDENTIFIER_SYSTEM}|{value}"
        targets = self.written_references(written)
        if token in self.previous or not targets:
            return []  # already in the chart, or nothing written for it to vouch for
        body = dict(copy.deepcopy(entry.resource))
        if value != entry.identifier_value:
            body = versioned_provenance(body, value)
        revises = any(s.action is StepAction.UPDATE for s in written)
        body = attributed_provenance(body, targets, revises=revises)
        return [self.create(entry, body, token)]

    def written_references(self, written: list[WriteStep]) -> list[str]:
        """A reference to each resource the steps write, in write order. A created resource is
        named by its placeholder (the transaction, or the rewrite, resolves it); a resource
        already in the chart by its id — the superseded note's placeholder now stands for the
        note that replaces it."""
        references: dict[str, None] = {}
        for step in written:
            if step.action is StepAction.CREATE and step.full_url is not None:
                references[step.full_url] = None
            elif step.action is StepAction.UPDATE and step.token in self.previous:
                references[self.previous[step.token].reference] = None
        return list(references)


_AMENDMENT_HOW = {
    WriteStrategy.FULL: "This amendment is filed in one FHIR transaction, all or nothing",
    WriteStrategy.PER_RESOURCE: "This amendment is filed resource by resource, each checked "
    "against the chart first",
    WriteStrategy.DOCUMENT: "This amendment is filed as a clinical note (DocumentReference)",
}
# What each kind of step does to the chart, in the order the status page names them.
_AMENDMENT_WHAT: tuple[tuple[StepRole, StepAction, str, str], ...] = (
    (StepRole.DOCUMENT, StepAction.CREATE, "a new clinical note for this version", ""),
    (StepRole.SUPERSEDE, StepAction.UPDATE, "the previous note marked superseded", ""),
    (StepRole.PROCEDURE, StepAction.CREATE, "the procedure", ""),
    (StepRole.PROCEDURE, StepAction.UPDATE, "the procedure updated", ""),
    (StepRole.LEVEL, StepAction.CREATE, "{n} new level result{s}", ""),
    (StepRole.LEVEL, StepAction.UPDATE, "{n} level result{s} updated", " (status amended)"),
    (StepRole.RETRACT, StepAction.UPDATE, "{n} level result{s} withdrawn", " (entered-in-error)"),
    (StepRole.REPORT, StepAction.CREATE, "the diagnostic report", ""),
    (StepRole.REPORT, StepAction.UPDATE, "the diagnostic report updated", " (status amended)"),
    (StepRole.PROVENANCE, StepAction.CREATE, "its provenance", ""),
)


def _amendment_explanation(decision: StrategyDecision, steps: list[WriteStep]) -> str:
    """The explanation of an amendment: the strategy's reasons, then what this version's own
    steps change — never the strategy's list of everything a first version files, which an
    amendment the EHR lets update only in part would not live up to."""
    parts = []
    for role, action, words, status in _AMENDMENT_WHAT:
        count = sum(1 for s in steps if s.role is role and s.action is action)
        if count:
            parts.append(words.format(n=count, s="" if count == 1 else "s") + status)
    assert decision.strategy is not None
    what = ", ".join(parts) if parts else "nothing changed in the chart"
    summary = f"{_AMENDMENT_HOW[decision.strategy]}: {what}."
    reasons = [r if r.endswith((".", "!", "?")) else f"{r}." for r in decision.reasons]
    return " ".join((*reasons, summary))


def _require_encounter(report: FrozenReport) -> None:
    """EHRs that take a procedure report only as a note file it against a visit (Epic needs an
    existing encounter of the patient): refuse a note without one, with the way out."""
    for entry in report.entries():
        if entry.resource_type != "DocumentReference":
            continue
        context = entry.resource.get("context")
        if isinstance(context, Mapping) and context.get("encounter"):
            return
    raise InputProblemError(
        [
            Problem(
                "encounter",
                "required-for-clinical-note",
                "this EHR files the report as a clinical note, which must belong to a visit, but "
                "the study names no encounter; add the encounter of the procedure and sign the "
                "report again",
            )
        ],
        "report for the chart",
    )


def _document_content(body: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """Keep the attachments of the types the EHR accepts (media type, parameters ignored)."""
    content = body.get("content") or []
    kept = [
        item
        for item in content
        if str(item.get("attachment", {}).get("contentType", "")).split(";")[0].strip().lower()
        in allowed
    ]
    body["content"] = kept or content
    return body


def _comparable(resource: Mapping[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in resource.items() if k not in ("id", "status", "text")}
    meta = body.get("meta")
    if isinstance(meta, dict):
        body["meta"] = {k: v for k, v in meta.items() if k not in ("versionId", "lastUpdated")}
    return body


def _same_content(sent: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether a resource is unchanged between versions (its status aside: `amended` is ours)."""
    return _comparable(sent) == _comparable(new)


def _with_link_steps(steps: list[WriteStep], decision: StrategyDecision) -> list[WriteStep]:
    """Outside a transaction a resource can only reference what is already in the chart. A
    reference to a resource written later (Procedure.report → DiagnosticReport) is left out
    of the create and added by an update once the target exists, where updates are allowed."""
    position = {
        s.full_url: i
        for i, s in enumerate(steps)
        if s.full_url is not None and s.action is StepAction.CREATE
    }
    result: list[WriteStep] = []
    links: dict[int, list[WriteStep]] = {}
    for index, step in enumerate(steps):
        later = [p for p in placeholders_in(step.body) if position.get(p, -1) > index]
        result.append(step)
        if not later or step.resource_type not in decision.updatable:
            continue
        after = max(position[p] for p in later)
        links.setdefault(after, []).append(
            step.model_copy(
                update={
                    "key": f"{step.token}#links",
                    "role": StepRole.LINK,
                    "action": StepAction.UPDATE,
                    "lookup": LookupMethod.NONE,
                    "conditional": False,
                    "full_url": None,
                    "if_match": None,
                    "retry_safe": True,
                }
            )
        )
    ordered: list[WriteStep] = []
    for index, step in enumerate(result):
        ordered.append(step)
        ordered.extend(links.get(index, []))
    return ordered


def _with_rewrites(
    steps: list[WriteStep], known: frozenset[str], strategy: WriteStrategy
) -> list[WriteStep]:
    """Name, per step, the references to rewrite and those to leave out."""
    placeholder_tokens = {full_url_of(token): token for token in known}
    created_at = {}
    for index, step in enumerate(steps):
        if step.full_url is not None:
            placeholder_tokens[step.full_url] = step.token
        if step.action is StepAction.CREATE and step.full_url is not None:
            created_at[step.full_url] = index
    result = []
    for index, step in enumerate(steps):
        rewrites: list[ReferenceRewrite] = []
        deferred: list[str] = []
        for placeholder in placeholders_in(step.body):
            token = placeholder_tokens.get(placeholder)
            made = created_at.get(placeholder)
            in_transaction = strategy is WriteStrategy.FULL and made is not None
            if token is None:
                deferred.append(placeholder)
            elif in_transaction:
                continue  # the server resolves references between entries of a transaction
            elif made is None or made < index or step.role is StepRole.LINK:
                rewrites.append(ReferenceRewrite(placeholder=placeholder, target=token))
            else:
                deferred.append(placeholder)
        result.append(
            step.model_copy(update={"rewrites": tuple(rewrites), "deferred": tuple(deferred)})
        )
    return result
