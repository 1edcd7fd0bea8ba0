"""What interpretation produces: per criterion, per level and for the study.

Every result says which rule set (id and version) produced it and lists each criterion with
the values used, so a report can say *why* a level is positive or not.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field

from plugin.study.levels import Region
from plugin.study.model import LevelRole

__all__ = [
    "FHIR_INTERPRETATION_BY_CATEGORY",
    "CriterionResult",
    "CriterionStatus",
    "CriterionValue",
    "FhirInterpretation",
    "LevelCategory",
    "LevelResult",
    "PositiveLevel",
    "PressureLimit",
    "PressureSensitivity",
    "RuleSetRef",
    "StudyConclusion",
    "StudyConclusionCode",
    "StudyInterpretation",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")

CriterionValue = float | int | str | bool | None


class CriterionStatus(StrEnum):
    MET = "met"
    FAILED = "failed"
    NOT_RECORDED = "not-recorded"


class LevelCategory(StrEnum):
    # lumbar-manometric
    DEFINITE = "definite"
    HIGHLY_PROBABLE = "highly-probable"
    PROBABLE = "probable"
    # cervical-triangulation
    POSITIVE = "positive"
    # both
    NEGATIVE = "negative"
    INDETERMINATE = "indeterminate"
    NOT_ASSESSABLE = "not-assessable"


class FhirInterpretation(StrEnum):
    """Codes of http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation."""

    POS = "POS"
    NEG = "NEG"
    IND = "IND"


#: Observation.interpretation of each category: the three lumbar grades and cervical
#: "positive" are positive results; indeterminate and not-assessable say nothing either way.
FHIR_INTERPRETATION_BY_CATEGORY: Mapping[LevelCategory, FhirInterpretation] = MappingProxyType(
    {
        LevelCategory.DEFINITE: FhirInterpretation.POS,
        LevelCategory.HIGHLY_PROBABLE: FhirInterpretation.POS,
        LevelCategory.PROBABLE: FhirInterpretation.POS,
        LevelCategory.POSITIVE: FhirInterpretation.POS,
        LevelCategory.NEGATIVE: FhirInterpretation.NEG,
        LevelCategory.INDETERMINATE: FhirInterpretation.IND,
        LevelCategory.NOT_ASSESSABLE: FhirInterpretation.IND,
    }
)


class PressureSensitivity(StrEnum):
    CHEMICAL = "chemical"
    MECHANICAL = "mechanical"
    INDETERMINATE_PRESSURE = "indeterminate-pressure"
    NORMAL = "normal"


class RuleSetRef(BaseModel):
    model_config = _FROZEN

    id: str
    version: str
    title: str


class CriterionResult(BaseModel):
    """One criterion of a rule set applied to one level."""

    model_config = _FROZEN

    id: str  # e.g. "concordant", "intensity", "low-pressure", "adjacent-control"
    description: str  # the rule in words, thresholds filled in: "intensity ≥ 7/10"
    status: CriterionStatus
    values: dict[str, CriterionValue] = Field(default_factory=dict)  # the values used
    explanation: str  # one sentence: "intensity 8/10 meets ≥ 7"


class PressureLimit(BaseModel):
    """A ΔP limit the level's rule set judges the level against (for charts and reports)."""

    model_config = _FROZEN

    criterion: str  # the criterion judged on it: "low-pressure", "very-low-pressure"
    delta_p_psi: float  # the limit, in psi above opening pressure
    comparison: str  # the rule in words: "< 15 psi"


class LevelResult(BaseModel):
    model_config = _FROZEN

    level: str
    region: Region
    role: LevelRole
    rule_set: RuleSetRef
    category: LevelCategory
    interpretation: FhirInterpretation
    reason: str | None = None  # machine-readable qualifier, e.g. "pressure-not-recorded"
    pressure_sensitivity: PressureSensitivity | None = None
    delta_p_psi: float | None = None
    criteria: tuple[CriterionResult, ...]
    controls: tuple[str, ...] = ()  # levels that served as valid negative controls
    pressure_limits: tuple[PressureLimit, ...] = ()  # the rule set's ΔP limits, lowest first
    summary: str  # one sentence for the report: "L4-L5: probable (ΔP 22 psi, control L3-L4)"

    @property
    def positive(self) -> bool:
        return self.interpretation is FhirInterpretation.POS


class StudyConclusionCode(StrEnum):
    """Codes of the product CodeSystem study-conclusion (plugin.interpretation.conclusion)."""

    DISCOGENIC_LEVEL_IDENTIFIED = "discogenic-level-identified"
    NO_DISCOGENIC_LEVEL = "no-discogenic-level"
    INDETERMINATE_NO_CONTROL = "indeterminate-no-valid-control"
    INDETERMINATE_DATA_NOT_RECORDED = "indeterminate-data-not-recorded"
    INDETERMINATE_NO_LEVEL_ASSESSABLE = "indeterminate-no-level-assessable"
    INDETERMINATE_SUSPECTED_NOT_ASSESSABLE = "indeterminate-suspected-level-not-assessable"


class PositiveLevel(BaseModel):
    model_config = _FROZEN

    level: str
    category: LevelCategory


class StudyConclusion(BaseModel):
    model_config = _FROZEN

    code: StudyConclusionCode
    positive_levels: tuple[PositiveLevel, ...]
    valid_control: bool
    text: str


class StudyInterpretation(BaseModel):
    model_config = _FROZEN

    rule_sets: tuple[RuleSetRef, ...]
    levels: tuple[LevelResult, ...]
    conclusion: StudyConclusion

    def result_for(self, level: str) -> LevelResult | None:
        return next((r for r in self.levels if r.level == level), None)
