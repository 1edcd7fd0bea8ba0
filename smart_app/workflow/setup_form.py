"""What the study setup form posts — region, discs to inject, which are controls, technique,
indication — applied to the study document, with the blinded injection order kept, drawn or
extended as the discs change.

Problems name the input they belong to (``inject-L2-L3``), so the page can put the message
beside it and link to it from the error summary. A setup with problems changes no disc, but
its typed text (technique, indication) is kept.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from plugin.errors import Problem
from plugin.study.levels import DISC_LEVELS, Region, level_index, region_of
from plugin.study.model import LevelRole
from smart_app.workflow.blinded_order import draw_order, extend_order, has_results, order_locked

__all__ = [
    "INDICATION_FIELD",
    "REGION_FIELD",
    "TECHNIQUE_FIELDS",
    "TECHNIQUE_MARKER",
    "SetupResult",
    "apply_setup",
    "control_field",
    "fits_region",
    "inject_field",
    "redraw_order",
    "region_levels",
    "setup_form_values",
]

REGION_FIELD = "region"
INDICATION_FIELD = "indication-text"
TECHNIQUE_MARKER = "technique-fields"
BLINDED_FIELD = "technique-patient_blinded"

#: Technique inputs: (study field, label, hint).
TECHNIQUE_FIELDS: tuple[tuple[str, str, str | None], ...] = (
    ("approach", "Approach", "e.g. right posterolateral extrapedicular"),
    ("needle_gauges", "Needles", "e.g. 18 G introducer, 22 G needle"),
    ("sedation", "Sedation", "e.g. none; midazolam 1 mg IV"),
    ("contrast_agent", "Contrast agent", "e.g. iohexol 300"),
    ("intradiscal_antibiotic", "Intradiscal antibiotic", "e.g. cefazolin 1 mg/mL in contrast"),
    ("manometer", "Manometer", None),
)


def inject_field(level: str) -> str:
    return f"inject-{level}"


def control_field(level: str) -> str:
    return f"control-{level}"


def fits_region(level: str, region: Region) -> bool:
    """Whether a disc belongs to a study of `region`; T12-L1, the thoracolumbar disc, is
    injected like a lumbar disc (the lumbar rule set covers it)."""
    return region_of(level) is region or (level == "T12-L1" and region is Region.LUMBAR)


def region_levels(region: Region) -> tuple[str, ...]:
    return tuple(level for level in DISC_LEVELS if fits_region(level, region))


@dataclass(frozen=True, slots=True)
class SetupResult:
    document: dict[str, Any]  # with problems: only the typed text applied
    problems: tuple[Problem, ...]


def _orders(levels: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    return {
        str(lv["level"]): lv["order"]
        for lv in levels
        if isinstance(lv.get("order"), int) and not isinstance(lv.get("order"), bool)
    }


def _new_order(
    current: list[dict[str, Any]], chosen: Sequence[str], rng: random.Random | None
) -> dict[str, int]:
    orders = _orders(current)
    if set(orders) == set(chosen):
        return orders  # the same discs: the order stays as drawn
    if not order_locked(current):
        return draw_order(chosen, rng)
    # Injections have begun and the team has heard the order: every disc keeps its number,
    # an added one comes after every number already read out (a dropped disc's included).
    kept = {level: position for level, position in orders.items() if level in chosen}
    return extend_order(
        kept, [c for c in chosen if c not in kept], rng, after=max(orders.values(), default=0)
    )


def apply_setup(
    document: Mapping[str, Any], form: Mapping[str, str], rng: random.Random | None = None
) -> SetupResult:
    """The document with the posted setup applied, or the problems that stop it."""
    problems: list[Problem] = []
    raw_region = form.get(REGION_FIELD, "").strip()
    region = Region(raw_region) if raw_region in {r.value for r in Region} else None
    if region is None:
        problems.append(Problem(REGION_FIELD, "required", "choose the region of the study"))
    chosen = [
        level
        for level in DISC_LEVELS
        if form.get(inject_field(level)) or form.get(control_field(level))
    ]
    if not chosen:
        problems.append(Problem("levels", "min-items", "choose at least one disc to inject"))
    if region is not None:
        problems.extend(
            Problem(
                inject_field(level),
                "level-outside-region",
                f"{level} is not in a {region.value} study; untick it or choose another region",
            )
            for level in chosen
            if not fits_region(level, region)
        )
    current = [lv for lv in document.get("levels") or [] if isinstance(lv, dict)]
    problems.extend(
        Problem(
            inject_field(str(lv.get("level"))),
            "has-results",
            f"{lv.get('level')} already has results; it cannot be left out of the study",
        )
        for lv in current
        if has_results(lv) and lv.get("level") not in chosen
    )
    # Typed text is kept whatever else is wrong; the discs change only when all is well.
    updated = dict(document)
    updated["technique"] = _technique(document, form)
    current_indication = document.get("indication")
    indication = dict(current_indication) if isinstance(current_indication, Mapping) else {}
    text = form.get(INDICATION_FIELD, "").strip()
    if text:
        indication["text"] = text
    else:
        indication.pop("text", None)
    updated["indication"] = indication
    if problems:
        return SetupResult(updated, tuple(problems))

    by_name = {str(lv.get("level")): lv for lv in current}
    orders = _new_order(current, chosen, rng)
    levels = []
    for level in sorted(chosen, key=level_index):
        entry = dict(by_name.get(level, {"level": level}))
        entry["role"] = (
            LevelRole.CONTROL.value if form.get(control_field(level)) else LevelRole.SUSPECTED.value
        )
        entry["order"] = orders[level]
        levels.append(entry)
    updated["levels"] = levels
    return SetupResult(updated, ())


def _technique(document: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    technique = dict(document.get("technique") or {})
    if TECHNIQUE_MARKER not in form:
        return technique
    for name, _label, _hint in TECHNIQUE_FIELDS:
        value = form.get(f"technique-{name}", "").strip()
        if value:
            technique[name] = value
        else:
            technique.pop(name, None)
    technique["patient_blinded"] = bool(form.get(BLINDED_FIELD))
    return technique


def redraw_order(document: Mapping[str, Any], rng: random.Random | None = None) -> SetupResult:
    """A new blinded order for the same discs, refused once the first injection has results."""
    levels = [lv for lv in document.get("levels") or [] if isinstance(lv, dict)]
    if not levels:
        return SetupResult(
            dict(document), (Problem("levels", "min-items", "choose the discs to inject first"),)
        )
    if order_locked(levels):
        return SetupResult(
            dict(document),
            (
                Problem(
                    "order",
                    "order-locked",
                    "the first injection has results, so the order can no longer change",
                ),
            ),
        )
    orders = draw_order([str(lv["level"]) for lv in levels], rng)
    updated = dict(document)
    updated["levels"] = [{**lv, "order": orders[str(lv["level"])]} for lv in levels]
    return SetupResult(updated, ())


def setup_form_values(document: Mapping[str, Any]) -> dict[str, str]:
    """The setup form as the stored document fills it (to show the page, or to compare)."""
    values: dict[str, str] = {TECHNIQUE_MARKER: "1"}
    levels = [lv for lv in document.get("levels") or [] if isinstance(lv, dict)]
    regions = {region_of(str(lv["level"])) for lv in levels if str(lv.get("level")) in DISC_LEVELS}
    if Region.LUMBAR in regions:
        values[REGION_FIELD] = Region.LUMBAR.value  # a lumbar study may include T12-L1
    elif len(regions) == 1:
        values[REGION_FIELD] = next(iter(regions)).value
    for lv in levels:
        name = str(lv.get("level"))
        values[inject_field(name)] = "on"
        if lv.get("role") == LevelRole.CONTROL.value:
            values[control_field(name)] = "on"
    technique = document.get("technique") or {}
    for name, _label, _hint in TECHNIQUE_FIELDS:
        if isinstance(technique.get(name), str):
            values[f"technique-{name}"] = technique[name]
    if technique.get("patient_blinded", True) is not False:
        values[BLINDED_FIELD] = "on"
    indication = document.get("indication") or {}
    if isinstance(indication, dict) and isinstance(indication.get("text"), str):
        values[INDICATION_FIELD] = indication["text"]
    return values
