"""A signed report, frozen: the exact transaction Bundle that files it, as canonical JSON, and
the SHA-256 of that text. Whatever strategy later writes it to a chart works from these bytes,
so what reaches the chart is what the clinician signed.

Pure: the signing time comes in as an argument.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from plugin.errors import InputProblemError, Problem
from plugin.fhir_mapping import map_study
from plugin.fhir_mapping.identifiers import IDENTIFIER_SYSTEM, study_key
from plugin.fhir_mapping.readiness import require_reportable
from plugin.interpretation.engine import interpret_study
from plugin.interpretation.results import StudyInterpretation
from plugin.interpretation.rule_set import RuleSetLibrary
from plugin.report.render import render_report
from plugin.study.model import Study
from plugin.study.validation import parse_study

__all__ = [
    "FrozenEntry",
    "FrozenReport",
    "SignedContent",
    "canonical_json",
    "content_hash",
    "freeze_bundle",
    "freeze_study",
    "thaw_report",
]


def canonical_json(value: Any) -> str:
    """Keys sorted, no whitespace, UTF-8 characters as they are: one text per value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(canonical: str) -> str:
    """SHA-256 (hex) of the canonical JSON's UTF-8 bytes."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class FrozenEntry:
    """One resource of the frozen Bundle with the identity the product gave it.

    `search_parameter` is ``identifier`` (or ``_tag`` for Provenance, which has no identifier
    in R4); `token` is ``system|value``, the search value that finds it in a chart.
    """

    full_url: str
    resource_type: str
    identifier_value: str
    search_parameter: str
    resource: Mapping[str, Any]

    @property
    def token(self) -> str:
        return f"{IDENTIFIER_SYSTEM}|{self.identifier_value}"


@dataclass(frozen=True, slots=True)
class FrozenReport:
    """The frozen Bundle (`canonical` is its exact text) and its `content_hash`."""

    study_key: str
    canonical: str
    content_hash: str

    @property
    def bundle(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.canonical)
        return data

    def entries(self) -> tuple[FrozenEntry, ...]:
        return tuple(_entry(index, raw) for index, raw in enumerate(self.bundle["entry"]))


@dataclass(frozen=True, slots=True)
class SignedContent:
    """Everything signing produces: the validated study, its interpretation, the validation
    warnings shown in the report, and the frozen report."""

    study: Study
    interpretation: StudyInterpretation
    warnings: tuple[Problem, ...]
    report: FrozenReport


def freeze_bundle(bundle: Mapping[str, Any]) -> FrozenReport:
    """Freeze a mapped transaction Bundle (as produced by `MappedStudy.transaction_bundle`)."""
    canonical = canonical_json(bundle)
    report = FrozenReport(_study_key_of(bundle), canonical, content_hash(canonical))
    report.entries()  # every entry must carry the product's identity
    return report


def thaw_report(canonical: str, expected_hash: str) -> FrozenReport:
    """A stored frozen report, after checking its text still has the hash it was signed with.

    Raises `InputProblemError` when it does not: a changed report must never be written.
    """
    actual = content_hash(canonical)
    if actual != expected_hash:
        raise InputProblemError(
            [
                Problem(
                    "content_hash",
                    "frozen-content-changed",
                    f"the stored report no longer matches its signed hash ({expected_hash[:12]}… "
                    f"signed, {actual[:12]}… stored); it will not be written",
                )
            ],
            "signed report",
        )
    return FrozenReport(_study_key_of(json.loads(canonical)), canonical, actual)


def freeze_study(
    study_json: Mapping[str, Any],
    *,
    issued: datetime,
    document_type: str,
    library: RuleSetLibrary,
    candidacy_summary: str | None = None,
) -> SignedContent:
    """Validate the study fully, interpret, render and map it (issued at `issued`), and
    freeze the resulting Bundle.

    Raises `StudyInvalidError` listing every problem when the study cannot be signed — a
    procedure dated after `issued` among them: a report cannot be signed before it happened.
    """
    validated = parse_study(study_json, now=issued)
    study = validated.study
    interpretation = interpret_study(study, library)
    require_reportable(study, interpretation)
    rendered = render_report(
        study,
        interpretation,
        issued=issued,
        candidacy_summary=candidacy_summary,
        warnings=validated.warnings,
    )
    mapped = map_study(
        study,
        interpretation,
        rendered,
        issued=issued,
        document_type=document_type,
        library=library,
    )
    if mapped.identifiers.key != study_key(study):  # guards the identity the ledger relies on
        raise AssertionError("mapped identifiers do not belong to the study")
    return SignedContent(
        study, interpretation, validated.warnings, freeze_bundle(mapped.transaction_bundle())
    )


def _study_key_of(bundle: Mapping[str, Any]) -> str:
    entries = bundle.get("entry")
    if bundle.get("type") != "transaction" or not isinstance(entries, Sequence) or not entries:
        raise InputProblemError(
            [Problem("bundle", "transaction", "a frozen report is a non-empty transaction Bundle")],
            "signed report",
        )
    first = _entry(0, entries[0])
    return first.identifier_value.rsplit(".", 1)[0]


def _entry(index: int, raw: Any) -> FrozenEntry:
    where = f"entry[{index}]"
    request = raw.get("request") if isinstance(raw, Mapping) else None
    resource = raw.get("resource") if isinstance(raw, Mapping) else None
    condition = request.get("ifNoneExist") if isinstance(request, Mapping) else None
    full_url = raw.get("fullUrl") if isinstance(raw, Mapping) else None
    if not (
        isinstance(resource, Mapping)
        and isinstance(condition, str)
        and isinstance(full_url, str)
        and isinstance(resource.get("resourceType"), str)
    ):
        raise InputProblemError(
            [
                Problem(
                    where,
                    "product-identity",
                    "each entry needs a fullUrl, a resource and the product's ifNoneExist",
                )
            ],
            "signed report",
        )
    parameter, _, token = condition.partition("=")
    system, _, value = token.partition("|")
    if parameter not in ("identifier", "_tag") or system != IDENTIFIER_SYSTEM or not value:
        raise InputProblemError(
            [
                Problem(
                    f"{where}.request.ifNoneExist",
                    "product-identity",
                    "must search the product's identifier system",
                )
            ],
            "signed report",
        )
    return FrozenEntry(full_url, str(resource["resourceType"]), value, parameter, resource)
