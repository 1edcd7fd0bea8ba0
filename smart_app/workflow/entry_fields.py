"""The fields a clinician fills in for each injected disc and for the study, in the order the
form shows them, with the words, units and input kind each one takes.

Field names are the study model's (`plugin.study.model.Level`), so a validation problem naming
``levels[2].onset_pressure_psi`` finds its input. Form inputs are named
``lv-<level>-<field>`` (``lv-L4-L5-onset_pressure_psi``): the disc, not its position in the
list, so a form posted from an older page still lands on the right disc.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from plugin.report import wording
from plugin.study.model import (
    SHORT_TEXT_MAX_CHARACTERS,
    ComplicationCode,
    ContrastLeak,
    PainResponse,
    TechnicalResult,
)
from plugin.terminology import PRODUCT_CODE_SYSTEMS

__all__ = [
    "COMPLICATION_CHOICES",
    "LEVEL_FIELDS",
    "LEVEL_FIELDS_BY_NAME",
    "NUMBER_MAX_CHARACTERS",
    "STUDY_FIELD_LABELS",
    "Choice",
    "EntryField",
    "FieldKind",
    "level_field_id",
    "parse_level_field_id",
]


class FieldKind(StrEnum):
    DECIMAL = "decimal"  # psi, mL: a number with decimals
    WHOLE = "whole"  # pain intensity: a whole number
    CHOICE = "choice"  # radio buttons or a select
    TEXT = "text"  # one line
    LONG_TEXT = "long-text"  # several lines


#: Far more than any measurement needs ("-1234.5678"); a longer number is a slip of the hand.
NUMBER_MAX_CHARACTERS = 20


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class EntryField:
    name: str  # the Level field
    label: str
    kind: FieldKind
    unit: str | None = None
    hint: str | None = None
    choices: tuple[Choice, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    as_radios: bool = False  # few choices, each a large target
    integer_codes: bool = False  # the choice values are whole numbers in the study

    @property
    def numeric(self) -> bool:
        return self.kind in (FieldKind.DECIMAL, FieldKind.WHOLE)

    @property
    def max_length(self) -> int | None:
        """The input's `maxlength`: what the study holds, so the browser stops the typing
        before the server has to refuse it (a choice has none)."""
        if self.numeric:
            return NUMBER_MAX_CHARACTERS
        if self.kind in (FieldKind.TEXT, FieldKind.LONG_TEXT):
            return SHORT_TEXT_MAX_CHARACTERS
        return None


def _choices(values: type[StrEnum], words: dict[str, str] | None = None) -> tuple[Choice, ...]:
    return tuple(Choice(v.value, (words or {}).get(v.value, v.value)) for v in values)


def _product_choices(system_id: str, *, definitions: bool) -> tuple[Choice, ...]:
    """Choices from one of the product's CodeSystems: "3 — Irregular"; the Dallas grades
    carry their definition, since the grade number alone means little at the table."""
    concepts = PRODUCT_CODE_SYSTEMS[system_id].concepts
    return tuple(
        Choice(code, f"{code} — {(definition if definitions else display).rstrip('.')}")
        for code, display, definition in concepts
    )


_TECHNICAL = {
    "completed": "Completed",
    "not-entered": "Not entered (the needle could not reach the nucleus)",
    "aborted": "Aborted",
}
_RESPONSE = {
    "concordant": "Concordant (the familiar pain)",
    "discordant": "Discordant (different pain)",
    "none": "No pain",
}

#: Per-level fields in form (and tab) order: what happened, pressures as they rise, the pain,
#: then the images.
LEVEL_FIELDS: tuple[EntryField, ...] = (
    EntryField(
        "technical_result",
        "Injection",
        FieldKind.CHOICE,
        choices=_choices(TechnicalResult, _TECHNICAL),
        as_radios=True,
    ),
    EntryField("abort_reason", "Reason the injection was stopped", FieldKind.TEXT),
    EntryField(
        "opening_pressure_psi",
        "Opening pressure",
        FieldKind.DECIMAL,
        unit="psi",
        hint="when contrast first flows into the disc",
    ),
    EntryField("onset_pressure_psi", "Pressure at pain onset", FieldKind.DECIMAL, unit="psi"),
    EntryField("peak_pressure_psi", "Peak pressure", FieldKind.DECIMAL, unit="psi"),
    EntryField("onset_volume_ml", "Volume at pain onset", FieldKind.DECIMAL, unit="mL"),
    EntryField("total_volume_ml", "Total volume", FieldKind.DECIMAL, unit="mL"),
    EntryField(
        "pain_intensity",
        "Pain intensity",
        FieldKind.WHOLE,
        unit="/10",
        hint="0 = no pain, 10 = worst imaginable",
        minimum=0,
        maximum=10,
    ),
    EntryField(
        "pain_response",
        "Pain response",
        FieldKind.CHOICE,
        choices=_choices(PainResponse, _RESPONSE),
        as_radios=True,
    ),
    EntryField("pain_location", "Where the pain was felt", FieldKind.TEXT),
    EntryField(
        "nucleogram",
        "Nucleogram (Adams)",
        FieldKind.CHOICE,
        choices=_product_choices("nucleogram", definitions=False),
        integer_codes=True,
    ),
    EntryField(
        "dallas_grade",
        "Annular disruption (modified Dallas)",
        FieldKind.CHOICE,
        choices=_product_choices("dallas-grade", definitions=True),
        integer_codes=True,
    ),
    EntryField(
        "leak",
        "Contrast leak",
        FieldKind.CHOICE,
        choices=tuple(Choice(v.value, wording.leak(v)) for v in ContrastLeak),
    ),
    EntryField("comment", "Comment", FieldKind.LONG_TEXT),
)

LEVEL_FIELDS_BY_NAME: dict[str, EntryField] = {f.name: f for f in LEVEL_FIELDS}

#: Complications offered as check boxes ("none" is the absence of any).
COMPLICATION_CHOICES: tuple[Choice, ...] = tuple(
    Choice(code.value, code.value.replace("-", " ").capitalize())
    for code in ComplicationCode
    if code not in (ComplicationCode.NONE, ComplicationCode.OTHER)
)

#: Labels of study-level fields, for messages and the error summary.
STUDY_FIELD_LABELS: dict[str, str] = {
    "performed": "Date and time of the procedure",
    "post_discogram_ct": "Post-discogram CT",
    "complications": "Complications",
    "indication": "Indication",
    "indication.text": "Indication",
    "technique": "Technique",
    "levels": "Levels",
    "patient": "Patient",
    "encounter": "Visit",
    "performer": "Performer",
}

_FIELD_ID = re.compile(r"^lv-(?P<level>[A-Z][0-9]{1,2}-[A-Z][0-9]{1,2})-(?P<field>[a-z_]+)$")


def level_field_id(level: str, field: str) -> str:
    """The input's name and id: ``lv-L4-L5-onset_pressure_psi``."""
    return f"lv-{level}-{field}"


def parse_level_field_id(name: str) -> tuple[str, str] | None:
    """(level, field) of an input name, or None when it is not a level input."""
    match = _FIELD_ID.match(name)
    if match is None or match["field"] not in LEVEL_FIELDS_BY_NAME:
        return None
    return match["level"], match["field"]
