"""The candidacy policy: what the data file ``mappings/candidacy/discography-referral.json``
holds (shared/clinical.md §4).

The Python that assesses a chart knows the methods (how to measure a condition's duration, a
span of care, the age of a lab); the policy holds every number, value set, drug, hold period and
outcome rule, with the sources behind them. A site replaces the file to change any of it.
This module is the schema; `plugin.candidacy.policy_file` loads and cross-checks it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from plugin.candidacy.value_sets import CodeRef, Term, ValueSet, normalized_text, terms_pattern
from plugin.interpretation.rule_set import Citation, ReviewNote
from plugin.interpretation.thresholds import Threshold
from plugin.study.levels import Region

__all__ = [
    "AllergyRule",
    "Attestation",
    "AttestationCriterion",
    "CareKind",
    "CareRequirement",
    "ChildBearingPotential",
    "ClottingRisk",
    "ConditionDurationCriterion",
    "ConservativeCareCriterion",
    "Criterion",
    "DrugClass",
    "Hold",
    "Ingredient",
    "Lab",
    "LabRequiredWhen",
    "LabRequirement",
    "NoActiveConditionCriterion",
    "NoSevereConditionCriterion",
    "OutcomeRule",
    "OutcomeRules",
    "PayerNote",
    "Policy",
    "PolicyRef",
    "Pregnancy",
    "PriorFusion",
    "RecentImagingCriterion",
    "Severity",
    "WhenAbsent",
]

_STRICT = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

Text = Annotated[StrictStr, Field(min_length=1, max_length=4000)]
Identifier = Annotated[
    StrictStr, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9\-.]*$")
]
SemVer = Annotated[
    StrictStr,
    Field(pattern=r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.\-]+)?(?:\+[0-9A-Za-z.\-]+)?$"),
]
Months = Annotated[StrictInt, Field(ge=1, le=240)]
Days = Annotated[StrictInt, Field(ge=0, le=3650)]


class Severity(StrEnum):
    """What a safety item does to the outcome (see `OutcomeRules`)."""

    CONTRAINDICATION = "contraindication"  # the procedure must not be done as things stand
    ACTION = "action"  # something must happen first: a lab, a hold, a decision
    INFO = "info"  # shown for awareness; changes nothing


class WhenAbsent(StrEnum):
    """A criterion's status when the chart holds nothing at all it could judge."""

    UNKNOWN = "unknown"  # it may exist outside this chart
    NOT_MET = "not-met"


class PolicyRef(BaseModel):
    model_config = _STRICT

    id: str
    version: str
    title: str


class Attestation(BaseModel):
    """A statement the ordering physician makes in the app; criteria cite it by id."""

    model_config = _STRICT

    id: Identifier
    text: Text


# --- criteria -----------------------------------------------------------------------------


class _Criterion(BaseModel):
    model_config = _STRICT

    id: Identifier
    title: Text
    description: Text  # the rule in words, for the policy reader
    citations: tuple[Identifier, ...] = ()


class ConditionDurationCriterion(_Criterion):
    """A matching condition (active, not refuted) whose onset is at least N months ago."""

    method: Literal["condition-duration"]
    conditions: ValueSet
    min_duration_months: Months
    pain_scores: ValueSet = ValueSet()  # Observations shown as supporting evidence only
    region_specific: StrictBool = True  # a condition placed in another region does not count
    when_absent: WhenAbsent = WhenAbsent.UNKNOWN


class CareKind(BaseModel):
    """A kind of non-drug care, found on Procedure, Encounter and ServiceRequest."""

    model_config = _STRICT

    id: Identifier
    title: Text
    value_set: ValueSet


class CareRequirement(BaseModel):
    """At least one episode of any of these kinds must be in the counted span of care.
    ``medication`` names the conservative-care drug classes."""

    model_config = _STRICT

    title: Text
    any_of: Annotated[tuple[Identifier, ...], Field(min_length=1)]


class ConservativeCareCriterion(_Criterion):
    """Documented care spanning at least N months, including each required kind."""

    method: Literal["conservative-care"]
    min_duration_months: Months
    max_gap_days: Days  # care resumed after a longer gap starts a new span
    care_kinds: tuple[CareKind, ...]
    medication_classes: tuple[Identifier, ...]  # drug classes that count as medication care
    required: tuple[CareRequirement, ...] = ()
    when_absent: WhenAbsent = WhenAbsent.UNKNOWN


class RecentImagingCriterion(_Criterion):
    """Imaging of the ordered region within N months, and (optionally) an attestation."""

    method: Literal["recent-imaging"]
    max_age_months: Months
    codes: dict[Region | Literal["unspecified"], ValueSet]  # study codes by region
    modality_text: ValueSet  # without a listed code: the text names the modality …
    region_text: dict[Region | Literal["unspecified"], ValueSet]  # … and the spine or a region
    attestation: Identifier | None = None
    when_absent: WhenAbsent = WhenAbsent.UNKNOWN


class AttestationCriterion(_Criterion):
    """Met when the physician attests; chart evidence matching `supporting` is shown beside it."""

    method: Literal["attestation"]
    attestation: Identifier
    supporting: ValueSet = ValueSet()


class NoActiveConditionCriterion(_Criterion):
    """Not met with an active matching condition; unknown with a recent course of one of the
    `recent_drug_classes` (to be reviewed); met otherwise."""

    method: Literal["no-active-condition"]
    conditions: ValueSet
    not_counted: ValueSet = ValueSet()  # matching conditions that are not what is meant
    recent_drug_classes: tuple[Identifier, ...] = ()
    recent_drug_window_days: Days = 0


class NoSevereConditionCriterion(_Criterion):
    """Not met with an active matching condition described as severe; unknown when a matching
    condition's severity is not stated; met otherwise."""

    method: Literal["no-severe-condition"]
    conditions: ValueSet
    severe: ValueSet
    not_severe: ValueSet
    region_specific: StrictBool = True


Criterion: TypeAlias = Annotated[
    ConditionDurationCriterion
    | ConservativeCareCriterion
    | RecentImagingCriterion
    | AttestationCriterion
    | NoActiveConditionCriterion
    | NoSevereConditionCriterion,
    Field(discriminator="method"),
]


# --- drugs --------------------------------------------------------------------------------


class Hold(BaseModel):
    """How long before the procedure a drug is stopped (the prescriber confirms)."""

    model_config = _STRICT

    days: Days  # the number the product uses
    range_days: tuple[Days, Days] | None = None  # the range quoted, shown beside `days`
    shown_as: Text | None = None  # "24 hours (therapeutic dose)"
    check_lab: Identifier | None = None  # a lab to confirm before the procedure (warfarin: INR)
    verified: StrictBool = False  # ◌ until seen in a primary source (clinical.md §4)


class Ingredient(BaseModel):
    """A drug ingredient, matched by name (and other names, e.g. brands) in medication text."""

    model_config = _STRICT

    name: Term
    other_names: tuple[Term, ...] = ()
    hold: Hold | None = None


class DrugClass(BaseModel):
    model_config = _STRICT

    id: Identifier
    title: Text
    ingredients: Annotated[tuple[Ingredient, ...], Field(min_length=1)]
    #: Severity of the item raised when the patient takes a drug of the class; None: no item.
    safety: Severity | None = None
    advice: Text | None = None  # what the clinician should do, beyond a hold period

    @cached_property
    def _by_name(self) -> dict[str, Ingredient]:
        return {
            normalized_text(name).strip(): ingredient
            for ingredient in self.ingredients
            for name in (ingredient.name, *ingredient.other_names)
        }

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        return terms_pattern(self._by_name)

    def ingredients_in_normalized(self, texts: Iterable[str]) -> tuple[Ingredient, ...]:
        """The class's ingredients named (as whole words) in any of the texts, each given in
        `normalized_text` form: a chart's medication texts are tried against every class, and
        are normalized once."""
        pattern = self._pattern
        if pattern is None:
            return ()
        found: dict[str, Ingredient] = {}
        for text in texts:
            for match in pattern.finditer(text):
                ingredient = self._by_name[match.group(1)]
                found[ingredient.name] = ingredient
        return tuple(found[name] for name in sorted(found))


# --- labs ---------------------------------------------------------------------------------


class Lab(BaseModel):
    model_config = _STRICT

    id: Identifier
    title: Text
    value_set: ValueSet
    unit: Annotated[StrictStr, Field(max_length=50)]  # the unit values are shown in
    #: Accepted units (UCUM code or unit text, matched exactly) → factor into `unit`;
    #: "" accepts a value without a unit (eGFR is reported in one unit only; ">60" is common).
    units: dict[Annotated[StrictStr, Field(max_length=50)], StrictFloat]
    action_when: Threshold | None = None  # a value meeting this needs action
    action: Text | None = None  # what to do then


class LabRequiredWhen(StrEnum):
    ALWAYS = "always"
    CLOTTING_RISK = "clotting-risk"


class LabRequirement(BaseModel):
    """A result of any of `any_of`, no older than `max_age_days`, needed before the procedure."""

    model_config = _STRICT

    id: Identifier
    title: Text
    any_of: Annotated[tuple[Identifier, ...], Field(min_length=1)]
    required: LabRequiredWhen
    max_age_days: Days
    suggested_order: CodeRef  # the LOINC test to order when missing or out of date


class ClottingRisk(BaseModel):
    """When INR / platelets are needed: anticoagulated, or hepatic/renal disease."""

    model_config = _STRICT

    drug_classes: tuple[Identifier, ...] = ()
    conditions: ValueSet = ValueSet()
    labs_needing_action: tuple[Identifier, ...] = ()  # e.g. eGFR in the action range


# --- allergies, pregnancy, prior fusion ----------------------------------------------------


class AllergyRule(BaseModel):
    model_config = _STRICT

    id: Identifier
    title: Text
    value_set: ValueSet
    severity: Severity
    action: Text


class ChildBearingPotential(BaseModel):
    model_config = _STRICT

    sexes: tuple[Annotated[StrictStr, Field(min_length=1)], ...] = ("female",)
    min_age_years: Annotated[StrictInt, Field(ge=0, le=120)]
    max_age_years: Annotated[StrictInt, Field(ge=0, le=120)]
    excluded_by: ValueSet = ValueSet()  # conditions/procedures ending it (hysterectomy, …)
    # Records naming one of those in words that are not what is meant (menopause counselling,
    # perimenopausal symptoms): they end nothing, and pregnancy is asked about as before.
    not_counted: ValueSet = ValueSet()


class Pregnancy(BaseModel):
    model_config = _STRICT

    status: ValueSet  # the pregnancy-status observation
    pregnant: ValueSet  # its answers
    not_pregnant: ValueSet
    unknown: ValueSet
    tests: ValueSet = ValueSet()  # pregnancy tests reported as text
    test_positive: ValueSet = ValueSet()
    test_negative: ValueSet = ValueSet()
    conditions: ValueSet = ValueSet()
    pregnant_valid_days: Days  # a "pregnant" status older than this is no longer current
    not_pregnant_valid_days: Days  # a "not pregnant" status older than this needs repeating
    child_bearing_potential: ChildBearingPotential
    suggested_order: CodeRef


class PriorFusion(BaseModel):
    """Spinal fusion in the history: a fused disc cannot be injected."""

    model_config = _STRICT

    procedures: ValueSet  # "fusion", "arthrodesis": spinal only with a region or level named
    spinal_procedures: ValueSet  # terms that are spinal by themselves (ACDF, TLIF, …)
    at_ordered_level: Severity
    level_unknown: Severity  # fusion in the region, fused levels not recorded
    other_level: Severity


class PayerNote(BaseModel):
    """Information for the ordering physician, never a rule (clinical.md §4)."""

    model_config = _STRICT

    id: Identifier
    regions: tuple[Region, ...]
    text: Text
    citation: Identifier | None = None


# --- outcome ------------------------------------------------------------------------------


class OutcomeRule(BaseModel):
    model_config = _STRICT

    criterion_status: tuple[Literal["not-met", "unknown"], ...] = ()
    safety_severity: tuple[Literal["contraindication", "action"], ...] = ()


class OutcomeRules(BaseModel):
    """First match wins: not-candidate, then needs-review; otherwise candidate."""

    model_config = _STRICT

    not_candidate: OutcomeRule
    needs_review: OutcomeRule


# --- the policy ---------------------------------------------------------------------------


class Policy(BaseModel):
    model_config = _STRICT

    id: Identifier
    version: SemVer
    title: Text
    description: Text
    attestations: tuple[Attestation, ...]
    regions: dict[Region, ValueSet]  # terms placing a condition, study or procedure in a region
    criteria: Annotated[tuple[Criterion, ...], Field(min_length=1)]
    drug_classes: tuple[DrugClass, ...]
    #: A course of a drug with a hold period (or of a clotting-risk class) whose record gives no
    #: end (finished at a time the chart does not give, or of unknown status) counts as possibly
    #: still taken when it started within this many days. Defaults to the shipped 90 so a site
    #: policy written before the field existed (1.0.0) keeps loading after the upgrade — as rule
    #: sets do for control_scope — and gets the shipped, safer reading of such records.
    end_unknown_recent_days: Days = 90
    labs: tuple[Lab, ...]
    lab_requirements: tuple[LabRequirement, ...]
    clotting_risk: ClottingRisk
    allergies: tuple[AllergyRule, ...]
    pregnancy: Pregnancy
    prior_fusion: PriorFusion
    bleeding_risk: dict[Region, Text]
    payer_notes: tuple[PayerNote, ...] = ()
    outcome: OutcomeRules
    citations: tuple[Citation, ...] = ()
    review_notes: tuple[ReviewNote, ...] = ()

    @property
    def ref(self) -> PolicyRef:
        return PolicyRef(id=self.id, version=self.version, title=self.title)

    def drug_class(self, class_id: str) -> DrugClass:
        return next(c for c in self.drug_classes if c.id == class_id)

    def lab(self, lab_id: str) -> Lab:
        return next(lab for lab in self.labs if lab.id == lab_id)

    def attestation(self, attestation_id: str) -> Attestation:
        return next(a for a in self.attestations if a.id == attestation_id)
