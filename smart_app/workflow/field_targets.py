"""Where each validation problem belongs on the pages: which page, which input (its id, for
the message beside it and the error summary's link) and the words that name it.

Validation names fields the way the study model does (``levels[1].onset_pressure_psi``,
``technique.approach``); the forms name inputs after the disc (``lv-L4-L5-…``), so a problem
finds its input through the study document it was raised on. The setup form's own problems
name their input directly (``region``, ``inject-L4-L5``, ``order``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from plugin.errors import Problem
from smart_app.workflow.entry_fields import LEVEL_FIELDS_BY_NAME, STUDY_FIELD_LABELS, level_field_id
from smart_app.workflow.page_frame import Step
from smart_app.workflow.setup_form import TECHNIQUE_FIELDS

__all__ = ["FieldTarget", "SummaryItem", "field_messages", "field_target", "summary_items"]

_LEVEL = re.compile(r"^levels\[(?P<index>\d+)\](?:\.(?P<field>[a-z_]+))?")
_TECHNIQUE_LABELS = {name: label for name, label, _hint in TECHNIQUE_FIELDS}


@dataclass(frozen=True, slots=True)
class FieldTarget:
    step: Step | None  # the page the input is on; None: nowhere to correct it in the app
    input_id: str | None
    label: str


@dataclass(frozen=True, slots=True)
class SummaryItem:
    label: str
    message: str
    href: str | None


def _level_name(document: Mapping[str, Any], index: int) -> str | None:
    levels = document.get("levels")
    if isinstance(levels, list) and index < len(levels) and isinstance(levels[index], Mapping):
        name = levels[index].get("level")
        return name if isinstance(name, str) else None
    return None


def field_target(field: str, document: Mapping[str, Any]) -> FieldTarget:
    """Where the problem on `field` of `document` is corrected."""
    match = _LEVEL.match(field)
    if match is not None:
        name = _level_name(document, int(match["index"])) or f"Disc {int(match['index']) + 1}"
        sub = match["field"]
        if sub in LEVEL_FIELDS_BY_NAME:
            label = f"{name} · {LEVEL_FIELDS_BY_NAME[sub].label}"
            return FieldTarget(Step.LEVELS, level_field_id(name, sub), label)
        if sub in ("level", "role", "order"):
            return FieldTarget(Step.SETUP, f"inject-{name}", f"{name} · {sub}")
        return FieldTarget(Step.LEVELS, f"level-{name}", name)
    if field == "region":
        return FieldTarget(Step.SETUP, "region", "Region")
    if field == "order":
        return FieldTarget(Step.SETUP, "order", "Blinded injection order")
    if field.startswith("inject-"):
        return FieldTarget(Step.SETUP, field, field.removeprefix("inject-"))
    head, _, rest = field.partition(".")
    head = head.split("[")[0]
    if head == "technique":
        name = rest.split(".")[0]
        return FieldTarget(
            Step.SETUP, f"technique-{name}", _TECHNIQUE_LABELS.get(name, "Technique")
        )
    if head == "indication":
        return FieldTarget(Step.SETUP, "indication-text", "Indication")
    if head == "levels":
        return FieldTarget(Step.SETUP, "levels", "Discs to inject")
    if head == "performed":
        return FieldTarget(Step.LEVELS, "performed-local", STUDY_FIELD_LABELS["performed"])
    if head == "post_discogram_ct":
        return FieldTarget(Step.LEVELS, "post_discogram_ct", STUDY_FIELD_LABELS[head])
    if head == "complications":
        return FieldTarget(Step.LEVELS, "complications", STUDY_FIELD_LABELS[head])
    return FieldTarget(None, None, STUDY_FIELD_LABELS.get(head, head or "Study"))


def field_messages(
    problems: Sequence[Problem], document: Mapping[str, Any], step: Step
) -> dict[str, str]:
    """Input id → its message(s), for the inputs on the page of `step`."""
    messages: dict[str, list[str]] = {}
    for problem in problems:
        target = field_target(problem.field, document)
        if target.step is step and target.input_id is not None:
            messages.setdefault(target.input_id, []).append(_capitalised(problem.message))
    return {key: " ".join(dict.fromkeys(values)) for key, values in messages.items()}


def summary_items(
    problems: Sequence[Problem],
    document: Mapping[str, Any],
    step: Step,
    page_urls: Mapping[Step, str],
) -> list[SummaryItem]:
    """The error summary: each problem with a link to its input (on this page or another)."""
    items: list[SummaryItem] = []
    for problem in problems:
        target = field_target(problem.field, document)
        href = None
        if target.input_id is not None and target.step is not None:
            base = "" if target.step is step else page_urls.get(target.step, "")
            href = f"{base}#{target.input_id}"
        items.append(SummaryItem(target.label, _capitalised(problem.message), href))
    return list(dict.fromkeys(items))


def _capitalised(message: str) -> str:
    return message[:1].upper() + message[1:]
