"""What the level entry form posts, applied to the study document.

Typed text is converted to what the study model takes (``"12,5"`` → 12.5 psi, ``"7"`` → 7) when
it can be; text that cannot be read as a number is kept as typed, so validation names it ("must
be a number (got '1O')") and the form shows it back — a mistyped value is never dropped. A
value the model refuses by its type is kept as typed too ("7.0" for a whole number), and a
whole number no float holds exactly stays that whole number, so a refused value comes back,
and is quoted in its message, as it was typed rather than as a float prints.
Only discs and sections whose presence marker was posted are touched, so an empty radio group
clears its value while a form from another page leaves the rest of the study alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from plugin.study.model import ComplicationCode
from smart_app.workflow.entry_fields import (
    COMPLICATION_CHOICES,
    LEVEL_FIELDS,
    NUMBER_MAX_CHARACTERS,
    EntryField,
    FieldKind,
    level_field_id,
)

__all__ = [
    "COMPLICATION_FIELD_PREFIX",
    "OTHER_COMPLICATION_FIELD",
    "PERFORMED_LOCAL_FIELD",
    "PERFORMED_OFFSET_FIELD",
    "POST_CT_FIELD",
    "STUDY_MARKER",
    "apply_level_form",
    "form_text",
    "level_marker",
    "performed_parts",
    "typed_value",
]

STUDY_MARKER = "study-fields"
PERFORMED_LOCAL_FIELD = "performed-local"
PERFORMED_OFFSET_FIELD = "performed-offset"
POST_CT_FIELD = "post_discogram_ct"
COMPLICATION_FIELD_PREFIX = "complication-"
OTHER_COMPLICATION_FIELD = "complication-other-text"

_OFFSET = re.compile(r"^[+-](?:[01][0-9]|2[0-3]):[0-5][0-9]$")
_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?$")
_PERFORMED = re.compile(
    r"^(?P<local>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?P<offset>Z|[+-]\d{2}:\d{2})$"
)


def level_marker(level: str) -> str:
    """The hidden input saying this disc's fields are on the posted form."""
    return level_field_id(level, "present")


# A plain decimal number: optional sign, digits, at most one decimal point. `\d` takes any
# script's digits ("１２" reads as 12); Python's float() would also take "1_8", "1e1", "inf"
# and "nan", which a clinician never means — those are kept as typed, for validation to name.
_PLAIN_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_PLAIN_WHOLE = re.compile(r"[+-]?\d+")


def _number(text: str) -> float | None:
    # A decimal comma is what many keyboards give for `inputmode="decimal"`.
    candidate = text.replace(",", ".", 1) if "," in text and "." not in text else text
    if not _PLAIN_DECIMAL.fullmatch(candidate):
        return None
    value = float(candidate)
    return value if math.isfinite(value) else None


def typed_value(field: EntryField, raw: str) -> Any:
    """The study value of a posted text: None when empty, a number when it reads as one, else
    the text as typed (for validation to name)."""
    text = raw.strip()
    if not text:
        return None
    if len(text) > NUMBER_MAX_CHARACTERS and (field.numeric or field.integer_codes):
        return text  # no measurement is this long: kept for validation to name
    if field.kind is FieldKind.DECIMAL:
        number = _number(text)
        if number is not None and _PLAIN_WHOLE.fullmatch(text) and int(text) != number:
            return int(text)  # 99999999999999999999 is not 1e+20: "at most 500 psi (got 9999…)"
        return text if number is None else number
    if field.kind is FieldKind.WHOLE or field.integer_codes:
        # The model takes only whole numbers here: "7.0" or "7.5" is kept as typed, for
        # validation to name as typed ("must be a whole number (got '7.0')").
        return int(text) if _PLAIN_WHOLE.fullmatch(text) else text
    return text


def form_text(value: Any) -> str:
    """A stored value as the input shows it: numbers without a trailing ``.0`` or an exponent
    (a number from the form is written out in digits, as it was typed)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float) and math.isfinite(value):
        return format(Decimal(repr(value)), "f")  # 1e-05 → 0.00001
    return str(value)


def _apply_level(level: dict[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    updated = dict(level)
    name = str(level.get("level"))
    for field in LEVEL_FIELDS:
        value = typed_value(field, form.get(level_field_id(name, field.name), ""))
        if value is None:
            updated.pop(field.name, None)
        else:
            updated[field.name] = value
    return updated


def performed_parts(value: Any) -> tuple[str, str]:
    """(local date-time, offset) of a stored `performed` for the form's two inputs; a value
    that is not in that shape (kept as typed) shows whole in the first."""
    if not isinstance(value, str):
        return "", ""
    match = _PERFORMED.match(value)
    if match is None:
        return value, ""
    offset = match["offset"]
    return match["local"], "+00:00" if offset == "Z" else offset


def _performed(form: Mapping[str, str]) -> str | None:
    local = form.get(PERFORMED_LOCAL_FIELD, "").strip()
    if not local:
        return None
    offset = form.get(PERFORMED_OFFSET_FIELD, "").strip()
    if not _LOCAL.match(local):
        return local  # kept for validation to name
    # Without the browser's offset (no JavaScript) the time is taken as UTC, and the page says so.
    zone = offset if _OFFSET.match(offset) else "+00:00"
    if not _is_calendar_time(local):
        return f"{local}{zone}"  # 2026-13-45T10:00: kept as typed (no seconds added)
    seconds = "" if local.count(":") == 2 else ":00"
    return f"{local}{seconds}{zone}"


def _is_calendar_time(local: str) -> bool:
    try:
        datetime.fromisoformat(local)
    except ValueError:
        return False
    return True


def _complications(form: Mapping[str, str]) -> list[dict[str, str]]:
    chosen: list[dict[str, str]] = [
        {"code": choice.value}
        for choice in COMPLICATION_CHOICES
        if form.get(COMPLICATION_FIELD_PREFIX + choice.value)
    ]
    other = form.get(OTHER_COMPLICATION_FIELD, "").strip()
    if other:
        chosen.append({"code": ComplicationCode.OTHER.value, "text": other})
    return chosen


def apply_level_form(document: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """The study document with the posted level and study fields applied."""
    updated = dict(document)
    levels = document.get("levels")
    if isinstance(levels, list):
        updated["levels"] = [
            _apply_level(level, form)
            if isinstance(level, dict) and level_marker(str(level.get("level"))) in form
            else level
            for level in levels
        ]
    if STUDY_MARKER in form:
        for key, value in (
            ("performed", _performed(form)),
            ("post_discogram_ct", form.get(POST_CT_FIELD, "").strip() or None),
        ):
            if value is None:
                updated.pop(key, None)
            else:
                updated[key] = value
        complications = _complications(form)
        if complications:
            updated["complications"] = complications
        else:
            updated.pop("complications", None)
    return updated
