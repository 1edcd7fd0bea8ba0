"""The discography study as the product records it (pure data, no I/O).

Field names of `Level` are a public contract: other tools read and write them.
Values that were not measured are ``None`` — never zero.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

from plugin.study.levels import Region, region_of

__all__ = [
    "SHORT_TEXT_MAX_CHARACTERS",
    "Complication",
    "ComplicationCode",
    "ContrastLeak",
    "Indication",
    "Level",
    "LevelRole",
    "PainResponse",
    "Reference",
    "Study",
    "TechnicalResult",
    "Technique",
]


class LevelRole(StrEnum):
    SUSPECTED = "suspected"
    CONTROL = "control"


class TechnicalResult(StrEnum):
    COMPLETED = "completed"
    NOT_ENTERED = "not-entered"  # the needle could not reach the nucleus
    ABORTED = "aborted"


class PainResponse(StrEnum):
    CONCORDANT = "concordant"  # reproduces the patient's familiar pain
    DISCORDANT = "discordant"  # different quality or place
    NONE = "none"


class ContrastLeak(StrEnum):
    NONE = "none"
    EPIDURAL = "epidural"
    FORAMINAL = "foraminal"
    VASCULAR = "vascular"
    OTHER = "other"


class ComplicationCode(StrEnum):
    NONE = "none"
    DISCITIS = "discitis"
    CONTRAST_REACTION = "contrast-reaction"
    VASOVAGAL = "vasovagal"
    DURAL_PUNCTURE = "dural-puncture"
    INCREASED_PAIN = "increased-pain"
    OTHER = "other"


# Numbers, booleans and strings are strict (no "5" for 5, no true for 1); enums and dates
# are parsed from their JSON spelling.
_STRICT = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

Psi = Annotated[StrictFloat, Field(ge=0)]
Millilitres = Annotated[StrictFloat, Field(ge=0)]
#: The longest text a study field holds (an indication, a comment, a technique line).
SHORT_TEXT_MAX_CHARACTERS = 2000
ShortText = Annotated[StrictStr, Field(min_length=1, max_length=SHORT_TEXT_MAX_CHARACTERS)]


class Reference(BaseModel):
    """A FHIR reference (``"Patient/123"``), optionally with a display name.

    Accepts the bare string form used in study JSON.
    """

    model_config = _STRICT

    reference: Annotated[StrictStr, Field(min_length=1, max_length=500, pattern=r"^\S+$")]
    display: ShortText | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"reference": value} if isinstance(value, str) else value


class Level(BaseModel):
    """One injected disc: what was measured and what the patient reported."""

    model_config = _STRICT

    level: StrictStr
    role: LevelRole = LevelRole.SUSPECTED
    order: Annotated[StrictInt, Field(ge=1)] | None = None
    technical_result: TechnicalResult = TechnicalResult.COMPLETED
    abort_reason: ShortText | None = None
    opening_pressure_psi: Psi | None = None
    onset_pressure_psi: Psi | None = None
    peak_pressure_psi: Psi | None = None
    onset_volume_ml: Millilitres | None = None
    total_volume_ml: Millilitres | None = None
    pain_intensity: Annotated[StrictInt, Field(ge=0, le=10)] | None = None
    pain_response: PainResponse | None = None
    pain_location: ShortText | None = None
    nucleogram: Annotated[StrictInt, Field(ge=1, le=5)] | None = None
    dallas_grade: Annotated[StrictInt, Field(ge=0, le=5)] | None = None
    leak: ContrastLeak | None = None
    comment: ShortText | None = None

    @property
    def region(self) -> Region:
        return region_of(self.level)

    @property
    def completed(self) -> bool:
        return self.technical_result is TechnicalResult.COMPLETED

    @property
    def delta_p_psi(self) -> float | None:
        """Pressure at pain onset above opening pressure (ΔP), when both were recorded."""
        if self.onset_pressure_psi is None or self.opening_pressure_psi is None:
            return None
        return round(self.onset_pressure_psi - self.opening_pressure_psi, 3)


class Technique(BaseModel):
    model_config = _STRICT

    approach: ShortText | None = None
    needle_gauges: ShortText | None = None
    sedation: ShortText | None = None
    contrast_agent: ShortText | None = None
    intradiscal_antibiotic: ShortText | None = None
    manometer: ShortText | None = None
    patient_blinded: StrictBool = True


class Indication(BaseModel):
    """Why the study was done; a plain string in study JSON is taken as `text`."""

    model_config = _STRICT

    text: ShortText | None = None
    reason_references: list[Reference] = Field(default_factory=list)
    criteria_met: list[ShortText] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value


class Complication(BaseModel):
    """A complication; a plain string in study JSON is a code when it names one, else text."""

    model_config = _STRICT

    code: ComplicationCode = ComplicationCode.OTHER
    text: ShortText | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            known = {c.value for c in ComplicationCode}
            stripped = value.strip()
            return {"code": stripped} if stripped in known else {"code": "other", "text": value}
        return value


class Study(BaseModel):
    """A provocative discography study. Build it with `plugin.study.validation.parse_study`,
    which checks the rules across fields and reports every problem at once."""

    model_config = _STRICT

    id: (
        Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9\-\.]+$")]
        | None
    ) = None
    rule_set: ShortText | None = None
    patient: Reference | None = None
    encounter: Reference | None = None
    performer: Reference | None = None
    performed: AwareDatetime | None = None
    indication: Indication | None = None
    technique: Technique | None = None
    levels: list[Level]
    post_discogram_ct: ShortText | None = None
    complications: list[Complication] = Field(default_factory=list)

    @property
    def regions(self) -> tuple[Region, ...]:
        seen: dict[Region, None] = {}
        for level in self.levels:
            seen.setdefault(level.region, None)
        return tuple(seen)

    def level_named(self, name: str) -> Level | None:
        return next((lv for lv in self.levels if lv.level == name), None)
