"""What the results entry page shows: one group of fields per disc in the order the discs are
injected, each field with the value as stored (or as typed, when it was not valid) and its
message, the study's own fields, and the interpretation panel.

Pure: built from the study document and its check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from plugin.interpretation.results import LevelResult
from plugin.interpretation.summary import CATEGORY_WORDS, REASON_WORDS
from plugin.report import wording
from plugin.study.levels import is_disc_level, level_index
from smart_app.workflow.entry_fields import (
    COMPLICATION_CHOICES,
    LEVEL_FIELDS,
    EntryField,
    level_field_id,
)
from smart_app.workflow.level_form import form_text, level_marker, performed_parts
from smart_app.workflow.study_check import LevelProgress, StudyCheck

__all__ = [
    "DiscEntry",
    "FieldEntry",
    "LevelPanel",
    "PanelView",
    "StudyFields",
    "disc_entries",
    "injected_levels",
    "panel_view",
    "study_fields",
]

_PROGRESS_WORDS = {
    LevelProgress.INTERPRETED: "interpreted",
    LevelProgress.AWAITING: "not recorded yet",
    LevelProgress.NEEDS_CORRECTION: "values missing or to correct",
}


@dataclass(frozen=True, slots=True)
class FieldEntry:
    field: EntryField
    id: str
    value: str  # as the input shows it
    known_choice: bool  # False: a stored value that is none of the choices (kept as typed)


@dataclass(frozen=True, slots=True)
class DiscEntry:
    name: str
    role: str
    order: int | None
    marker: str
    fields: tuple[FieldEntry, ...]
    progress: str


def _levels(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [lv for lv in document.get("levels") or [] if isinstance(lv, Mapping)]


def injected_levels(document: Mapping[str, Any]) -> tuple[str, ...]:
    """The discs the study is set up to inject."""
    return tuple(str(lv.get("level")) for lv in _levels(document))


def _order_key(level: Mapping[str, Any]) -> tuple[int, int]:
    order = level.get("order")
    name = str(level.get("level"))
    position = level_index(name) if is_disc_level(name) else 0
    # Discs without an injection number (not expected) follow, cranial to caudal.
    return (order if isinstance(order, int) and not isinstance(order, bool) else 10_000, position)


def disc_entries(document: Mapping[str, Any], check: StudyCheck) -> tuple[DiscEntry, ...]:
    progress = {state.level: state.progress for state in check.levels}
    entries = []
    for level in sorted(_levels(document), key=_order_key):
        name = str(level.get("level"))
        fields = []
        for field in LEVEL_FIELDS:
            raw = level.get(field.name)
            if field.name == "technical_result" and raw is None:
                raw = "completed"  # what the study assumes when nothing is said
            value = form_text(raw)
            known = not field.choices or value == "" or any(c.value == value for c in field.choices)
            fields.append(FieldEntry(field, level_field_id(name, field.name), value, known))
        order = level.get("order")
        entries.append(
            DiscEntry(
                name=name,
                role=str(level.get("role") or "suspected"),
                order=order if isinstance(order, int) and not isinstance(order, bool) else None,
                marker=level_marker(name),
                fields=tuple(fields),
                progress=_PROGRESS_WORDS[progress.get(name, LevelProgress.AWAITING)],
            )
        )
    return tuple(entries)


@dataclass(frozen=True, slots=True)
class StudyFields:
    performed_local: str
    performed_offset: str
    post_discogram_ct: str
    complications: frozenset[str]
    other_complication: str


def study_fields(document: Mapping[str, Any]) -> StudyFields:
    local, offset = performed_parts(document.get("performed"))
    chosen: set[str] = set()
    other = ""
    for item in document.get("complications") or []:
        if isinstance(item, Mapping):
            code = str(item.get("code", ""))
            if code == "other":
                other = str(item.get("text") or "")
            elif code in {c.value for c in COMPLICATION_CHOICES}:
                chosen.add(code)
        elif isinstance(item, str):
            chosen.add(item)
    post_ct = document.get("post_discogram_ct")
    return StudyFields(
        performed_local=local,
        performed_offset=offset,
        post_discogram_ct=post_ct if isinstance(post_ct, str) else "",
        complications=frozenset(chosen),
        other_complication=other,
    )


@dataclass(frozen=True, slots=True)
class LevelPanel:
    name: str
    role: str
    progress: str
    category: str | None
    positive: bool
    summary: str | None
    reason: str | None
    rule_set: str | None
    criteria: tuple[tuple[str, str, str], ...]  # (status words, description, explanation)


@dataclass(frozen=True, slots=True)
class PanelView:
    provisional: bool
    complete: bool
    conclusion: str | None
    levels: tuple[LevelPanel, ...]
    pending: tuple[str, ...]  # discs not in the interpretation yet
    warnings: tuple[str, ...]


def _level_panel(name: str, role: str, progress: str, result: LevelResult | None) -> LevelPanel:
    if result is None:
        return LevelPanel(name, role, progress, None, False, None, None, None, ())
    return LevelPanel(
        name=name,
        role=role,
        progress=progress,
        category=CATEGORY_WORDS[result.category],
        positive=result.positive,
        summary=result.summary,
        reason=REASON_WORDS.get(result.reason, result.reason) if result.reason else None,
        rule_set=f"{result.rule_set.title} {result.rule_set.version}",
        criteria=tuple(
            (wording.criterion_status(c.status), c.description, c.explanation)
            for c in result.criteria
        ),
    )


def panel_view(
    document: Mapping[str, Any], check: StudyCheck, warnings: Sequence[str] = ()
) -> PanelView:
    """The interpretation panel, discs cranial to caudal (as the spine diagram reads)."""
    roles = {str(lv.get("level")): str(lv.get("role") or "suspected") for lv in _levels(document)}
    ordered = sorted(
        check.levels, key=lambda s: level_index(s.level) if is_disc_level(s.level) else 0
    )
    panels = tuple(
        _level_panel(
            s.level, roles.get(s.level, "suspected"), _PROGRESS_WORDS[s.progress], s.result
        )
        for s in ordered
    )
    interpretation = check.interpretation
    return PanelView(
        provisional=check.provisional,
        complete=check.complete,
        conclusion=interpretation.conclusion.text if interpretation is not None else None,
        levels=panels,
        pending=tuple(p.name for p in panels if p.category is None),
        warnings=tuple(warnings),
    )
