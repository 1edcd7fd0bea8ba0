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

from plugin.study.levels import DISC_LEVELS, Region, region_of

__all__ = [
    "CERVICAL_VOLUME_WARNING_ML",
    "INJECTED_VOLUME_LIMIT_ML",
    "MANOMETER_LIMIT_PSI",
    "PEAK_PRESSURE_WARNING_PSI",
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
# are parsed from their JSON spelling. Infinity and NaN (which Python's JSON reader accepts)
# are no measurement: every number must be finite.
_STRICT = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False)

#: Cervical discs take well under 1 mL; above this the volume is flagged for a second look.
CERVICAL_VOLUME_WARNING_ML = 1.5
#: Peak pressures in practice stay within about 100 psi; a higher one is usually a typo, so it
#: is flagged for a second look (but accepted, up to `MANOMETER_LIMIT_PSI`).
PEAK_PRESSURE_WARNING_PSI = 100.0
#: The highest pressure a study may record. The inflation-device manometers used for
#: discography read to about 30 atm (≈ 440 psi); a larger number was not read off one — it is a
#: typo or another unit (100 psi is 689 kPa or 5171 mmHg).
MANOMETER_LIMIT_PSI = 500.0
#: The largest volume a study may record for one disc. A lumbar disc commonly takes 1–3 mL and a
#: cervical disc well under 1 mL (shared/clinical.md §1); twenty millilitres is beyond any disc
#: injection, so a larger number is a typo or another unit.
INJECTED_VOLUME_LIMIT_ML = 20.0

Psi = Annotated[StrictFloat, Field(ge=0, le=MANOMETER_LIMIT_PSI)]
Millilitres = Annotated[StrictFloat, Field(ge=0, le=INJECTED_VOLUME_LIMIT_ML)]
#: The longest text a study field holds (an indication, a comment, a technique line).
SHORT_TEXT_MAX_CHARACTERS = 2000
ShortText = Annotated[StrictStr, Field(min_length=1, max_length=SHORT_TEXT_MAX_CHARACTERS)]


class Reference(BaseModel):
    """A FHIR reference (``"Patient/123"``), optionally with a display name.

    Accepts the bare string form used in study JSON.
    """

    model_config = _STRICT

    reference: Annotated[StrictStr, Field(min_length=1, max_length=500, pattern=r"^\S+$")] = Field(
        description='The FHIR reference: resource type and id ("Patient/123"), or a full URL.'
    )
    display: ShortText | None = Field(
        default=None,
        description='The name shown for it ("Dr. A. Smith"). Empty: the reference alone is shown.',
    )

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"reference": value} if isinstance(value, str) else value


class Level(BaseModel):
    """One injected disc: what was measured and what the patient reported."""

    model_config = _STRICT

    level: StrictStr = Field(
        description="The disc injected, named by the vertebrae above and below it: C2-C3 … "
        "C7-T1, T1-T2 … T12-L1, L1-L2 … L5-S1. The region follows from it. Other spellings "
        '("L4/5", "l4-l5") are read as the listed name. Each disc once per study.',
        json_schema_extra={"enum": list(DISC_LEVELS)},
    )
    role: LevelRole = Field(
        default=LevelRole.SUSPECTED,
        description="suspected (a disc suspected on imaging of causing the pain) or control (a "
        "disc not suspected, injected to validate the response). Empty: suspected.",
    )
    order: Annotated[StrictInt, Field(ge=1)] | None = Field(
        default=None,
        description="The blinded injection order: 1 for the first disc injected, then 2, 3 …; "
        "each number once. Empty: not recorded (a warning).",
    )
    technical_result: TechnicalResult = Field(
        default=TechnicalResult.COMPLETED,
        description="completed, not-entered (the needle could not reach the nucleus) or aborted "
        "(say why in abort_reason). A level not completed is not assessable. Empty: completed.",
    )
    abort_reason: ShortText | None = Field(
        default=None, description="Why the injection was aborted, as text. Empty: not given."
    )
    opening_pressure_psi: Psi | None = Field(
        default=None,
        description="Opening pressure, in psi: the pressure at which contrast first flows into "
        f"the disc. 0 to {MANOMETER_LIMIT_PSI:g}. Empty: not measured (never 0 for unknown).",
    )
    onset_pressure_psi: Psi | None = Field(
        default=None,
        description="Pressure at pain onset, in psi, absolute (not above opening): at most the "
        "peak pressure and at least the opening pressure. Empty when no pain was provoked or "
        "it was not measured.",
    )
    peak_pressure_psi: Psi | None = Field(
        default=None,
        description=f"Peak pressure, in psi: the highest pressure reached. 0 to "
        f"{MANOMETER_LIMIT_PSI:g}; above {PEAK_PRESSURE_WARNING_PSI:g} psi is flagged for a second "
        "look. Empty: not measured.",
    )
    onset_volume_ml: Millilitres | None = Field(
        default=None,
        description="Volume injected at pain onset, in mL: at most the total volume. Empty when "
        "no pain was provoked or it was not measured.",
    )
    total_volume_ml: Millilitres | None = Field(
        default=None,
        description=f"Total volume injected into the disc, in mL, 0 to "
        f"{INJECTED_VOLUME_LIMIT_ML:g}. Cervical discs take well under 1 mL (above "
        f"{CERVICAL_VOLUME_WARNING_ML:g} mL is flagged), lumbar discs commonly 1–3 mL. Empty: "
        "not measured.",
    )
    pain_intensity: Annotated[StrictInt, Field(ge=0, le=10)] | None = Field(
        default=None,
        description="Intensity of the provoked pain on the 0–10 numeric rating scale; 0 when no "
        "pain was provoked. Required for a completed level.",
    )
    pain_response: PainResponse | None = Field(
        default=None,
        description="concordant (reproduces the patient's familiar pain), discordant (different "
        "in quality or place) or none. Required for a completed level.",
    )
    pain_location: ShortText | None = Field(
        default=None,
        description="Where the provoked pain was felt and how it spread, as text. Empty: not "
        "recorded.",
    )
    nucleogram: Annotated[StrictInt, Field(ge=1, le=5)] | None = Field(
        default=None,
        description="Nucleogram pattern (Adams): 1 cotton-ball, 2 lobular, 3 irregular, "
        "4 fissured, 5 ruptured. Empty: not recorded.",
    )
    dallas_grade: Annotated[StrictInt, Field(ge=0, le=5)] | None = Field(
        default=None,
        description="Annular disruption on the modified Dallas discogram scale, 0–5, from "
        "fluoroscopy and, where done, post-discogram CT: 0 contrast within the nucleus, 1 inner "
        "third, 2 middle third, 3 outer third under 30° of circumference, 4 outer third over "
        "30°, 5 full-thickness tear with leak. Empty: not graded.",
    )
    leak: ContrastLeak | None = Field(
        default=None,
        description="Contrast leak: none, epidural, foraminal, vascular or other. Empty: not "
        "recorded.",
    )
    comment: ShortText | None = Field(
        default=None, description="Anything else about this level, as text. Empty: none."
    )

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


def _technique_text(what: str) -> Any:
    return Field(default=None, description=f"{what}, as text. Empty: not recorded.")


class Technique(BaseModel):
    """How the study was done."""

    model_config = _STRICT

    approach: ShortText | None = _technique_text(
        'The approach ("left posterolateral extrapedicular, double-needle")'
    )
    needle_gauges: ShortText | None = _technique_text(
        'The needles ("18 G introducer, 22 G disc needle")'
    )
    sedation: ShortText | None = _technique_text('The sedation ("midazolam 1 mg, awake")')
    contrast_agent: ShortText | None = _technique_text('The contrast agent ("iohexol 300 mg I/mL")')
    intradiscal_antibiotic: ShortText | None = _technique_text(
        'The antibiotic mixed with the contrast ("cefazolin 1 mg/mL")'
    )
    manometer: ShortText | None = _technique_text('The manometer ("digital, psi")')
    patient_blinded: StrictBool = Field(
        default=True,
        description="true when the patient was not told which disc was injected. Empty: true.",
    )


class Indication(BaseModel):
    """Why the study was done; a plain string in study JSON is taken as `text`."""

    model_config = _STRICT

    text: ShortText | None = Field(
        default=None, description="The indication in words. Empty: not recorded."
    )
    reason_references: list[Reference] = Field(
        default_factory=list,
        description="The chart records behind it: Condition, Observation, Procedure, "
        'DiagnosticReport or DocumentReference references ("Condition/lbp-1"). Empty: none.',
    )
    criteria_met: list[ShortText] = Field(
        default_factory=list,
        description="The candidacy criteria met at referral, one text each. Empty: none listed.",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value


class Complication(BaseModel):
    """A complication; a plain string in study JSON is a code when it names one, else text."""

    model_config = _STRICT

    code: ComplicationCode = Field(
        default=ComplicationCode.OTHER,
        description="none, discitis, contrast-reaction, vasovagal, dural-puncture, "
        "increased-pain or other. Empty: other.",
    )
    text: ShortText | None = Field(
        default=None, description="The complication in words. Empty: the code alone."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            known = {c.value for c in ComplicationCode}
            stripped = value.strip()
            return {"code": stripped} if stripped in known else {"code": "other", "text": value}
        return value


def _reference(what: str) -> Any:
    return Field(default=None, description=what)


class Study(BaseModel):
    """A provocative discography study. Build it with `plugin.study.validation.parse_study`,
    which checks the rules across fields and reports every problem at once."""

    model_config = _STRICT

    id: (
        Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9\-\.]+$")]
        | None
    ) = Field(
        default=None,
        description="The study's identifier, also the id of the FHIR resources filed: letters, "
        "digits, '-' and '.', at most 64. Empty: one is derived from the study's content.",
    )
    rule_set: ShortText | None = Field(
        default=None,
        description='The id of the rule set to interpret every level with ("lumbar-manometric", '
        '"cervical-triangulation" or a site rule set); it must apply to the disc of every '
        "level, or the study is refused. Empty: each level uses the default for its disc.",
    )
    patient: Reference | None = _reference(
        'The patient ("Patient/123"). Required to file a report; empty: interpretation only.'
    )
    encounter: Reference | None = _reference(
        'The encounter of the procedure ("Encounter/456"). Empty: not recorded.'
    )
    performer: Reference | None = _reference(
        "Who performed the study: a Practitioner, PractitionerRole or Organization "
        '("Practitioner/789"). Empty: not recorded.'
    )
    performed: AwareDatetime | None = Field(
        default=None,
        description="When the study was performed: date and time with time zone "
        "(2026-03-01T09:30:00-05:00), from 1950 on and not later than now. Empty: not recorded.",
    )
    indication: Indication | None = Field(
        default=None,
        description="Why the study was done: text, or an object with the text, the chart "
        "records behind it and the candidacy criteria met. Empty: not recorded.",
    )
    technique: Technique | None = Field(
        default=None, description="How the study was done. Empty: not recorded."
    )
    levels: list[Level] = Field(description="The discs injected, at least one, each once.")
    post_discogram_ct: ShortText | None = Field(
        default=None,
        description="The post-discogram CT findings, as text. Empty: not done or not reported.",
    )
    complications: list[Complication] = Field(
        default_factory=list,
        description='Complications, each a code ("vasovagal") or text ("transient nausea"); '
        '"none" when there were none. Empty: not recorded.',
    )

    @property
    def regions(self) -> tuple[Region, ...]:
        seen: dict[Region, None] = {}
        for level in self.levels:
            seen.setdefault(level.region, None)
        return tuple(seen)

    def level_named(self, name: str) -> Level | None:
        return next((lv for lv in self.levels if lv.level == name), None)
