"""How recorded values read in the report: numbers, dates, references and coded values.

One place for these spellings so the HTML, PDF and plain text say exactly the same thing.
A value that was not recorded reads as `NOT_RECORDED` ("—"), never as 0.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from plugin.interpretation.number_text import number_text
from plugin.interpretation.results import (
    CriterionStatus,
    FhirInterpretation,
    LevelCategory,
    PressureSensitivity,
)
from plugin.study.model import (
    Complication,
    ComplicationCode,
    ContrastLeak,
    LevelRole,
    PainResponse,
    Reference,
    TechnicalResult,
)
from plugin.terminology import PRODUCT_CODE_SYSTEMS

__all__ = [
    "NOT_RECORDED",
    "category_name",
    "clean",
    "complication",
    "criterion_status",
    "dallas_grade",
    "date_time",
    "interpretation_name",
    "leak",
    "level_list",
    "millilitres",
    "nucleogram",
    "pain_intensity",
    "pain_response",
    "pressure_sensitivity",
    "psi",
    "reference",
    "role",
    "technical_result",
    "text_or_missing",
]

#: What a value that was not recorded reads as, everywhere in the report.
NOT_RECORDED = "—"

# C0/C1 control characters (except tab and line breaks) are not text and are not allowed in
# XML (the SVG figures); lone surrogates cannot be encoded as UTF-8.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean(text: str) -> str:
    """Free text made safe to lay out: controls removed, tabs as spaces, NFC composed."""
    text = _SURROGATE.sub("\ufffd", _CONTROL.sub("", text)).replace("\t", " ")
    return unicodedata.normalize("NFC", text).strip()


def text_or_missing(text: str | None) -> str:
    return clean(text) if text else NOT_RECORDED


def _number(value: float) -> str:
    # As recorded, every digit: a value rounded to fixed places could cross the threshold it is
    # judged against (ΔP 14.996 is below 15, volume 3.504 above 3.5; clinical.md §2).
    return number_text(value)


def psi(value: float | None, *, unit: bool = False) -> str:
    if value is None:
        return NOT_RECORDED
    return f"{_number(value)} psi" if unit else _number(value)


def millilitres(value: float | None, *, unit: bool = False) -> str:
    if value is None:
        return NOT_RECORDED
    return f"{_number(value)} mL" if unit else _number(value)


def pain_intensity(value: int | None) -> str:
    return NOT_RECORDED if value is None else f"{value}/10"


def date_time(value: datetime | None) -> str:
    """``2026-11-20 09:30 UTC-05:00``: the clock time where it was recorded, with its offset."""
    if value is None:
        return NOT_RECORDED
    offset = value.utcoffset()
    if offset is None:
        return f"{value:%Y-%m-%d %H:%M}"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    zone = "UTC" if minutes == 0 else f"UTC{sign}{hours:02d}:{mins:02d}"
    return f"{value:%Y-%m-%d %H:%M} {zone}"


def reference(ref: Reference | None) -> str:
    """``Dr. Example (Practitioner/123)``, or the bare reference when there is no display."""
    if ref is None:
        return NOT_RECORDED
    if ref.display:
        return f"{clean(ref.display)} ({clean(ref.reference)})"
    return clean(ref.reference)


def level_list(levels: list[str] | tuple[str, ...]) -> str:
    return ", ".join(levels) if levels else NOT_RECORDED


def _display(system: str, code: str) -> str:
    return PRODUCT_CODE_SYSTEMS[system].display(code)


def role(value: LevelRole) -> str:
    return _display("level-role", value.value)


def technical_result(value: TechnicalResult) -> str:
    return _display("technical-result", value.value)


def pain_response(value: PainResponse | None) -> str:
    return NOT_RECORDED if value is None else _display("pain-response", value.value)


def nucleogram(value: int | None) -> str:
    """``4 (fissured)``: the Adams type with its name."""
    if value is None:
        return NOT_RECORDED
    return f"{value} ({_display('nucleogram', str(value)).lower()})"


def dallas_grade(value: int | None) -> str:
    return NOT_RECORDED if value is None else str(value)


def leak(value: ContrastLeak | None) -> str:
    return NOT_RECORDED if value is None else _display("contrast-leak", value.value)


def category_name(value: LevelCategory) -> str:
    return _display("level-category", value.value)


def pressure_sensitivity(value: PressureSensitivity | None) -> str:
    return NOT_RECORDED if value is None else _display("pressure-sensitivity", value.value)


_INTERPRETATION_WORDS = {
    FhirInterpretation.POS: "positive",
    FhirInterpretation.NEG: "negative",
    FhirInterpretation.IND: "indeterminate",
}


def interpretation_name(value: FhirInterpretation) -> str:
    """``positive (POS)``: the word and the FHIR v3-ObservationInterpretation code."""
    return f"{_INTERPRETATION_WORDS[value]} ({value.value})"


_STATUS_WORDS = {
    CriterionStatus.MET: "Met",
    CriterionStatus.FAILED: "Not met",
    CriterionStatus.NOT_RECORDED: "Not recorded",
}


def criterion_status(value: CriterionStatus) -> str:
    return _STATUS_WORDS[value]


def complication(value: Complication) -> str:
    name = _display("complication", value.code.value)
    if value.text and value.code is ComplicationCode.OTHER:
        return clean(value.text)
    return f"{name}: {clean(value.text)}" if value.text else name
