"""One Observation per injected disc: what was measured, what the patient reported and the
rule set's category, as components.

Every component is always present, in a fixed order; a value that is missing carries a
``dataAbsentReason`` saying why (not performed, not applicable, unknown) — never a zero.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from fhir.resources.R4B.annotation import Annotation
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.observation import Observation, ObservationComponent
from fhir.resources.R4B.quantity import Quantity

from plugin.fhir_mapping.coding import (
    OBSERVATION_CATEGORY_PROCEDURE,
    DataAbsentReason,
    Hl7Code,
    data_absent,
    disc_concept,
    hl7_concept,
    product_concept,
    standard_concept,
    ucum_quantity,
)
from plugin.fhir_mapping.identifiers import ResourceIdentity
from plugin.fhir_mapping.profiles import LEVEL_OBSERVATION_PROFILE, profile_meta
from plugin.fhir_mapping.references import ChartReferences
from plugin.interpretation.criterion import painful
from plugin.interpretation.results import FhirInterpretation, LevelResult
from plugin.interpretation.thresholds import PressureBand
from plugin.study.model import Level

__all__ = [
    "INTERPRETATION_TEXT",
    "LEVEL_RESULT_TEXT",
    "NOT_COMPLETED_STATUS",
    "PAIN_INTENSITY_LOINC",
    "level_observation",
    "pressure_sensitivity_absence",
]

#: The status of a level whose injection was not completed (R4 observation-status).
NOT_COMPLETED_STATUS = "cancelled"

LEVEL_RESULT_TEXT = "Provocative discography level result"
PAIN_INTENSITY_LOINC = "72514-3"

INTERPRETATION_TEXT: dict[FhirInterpretation, str] = {
    FhirInterpretation.POS: "Positive",
    FhirInterpretation.NEG: "Negative",
    FhirInterpretation.IND: "Indeterminate",
}

_DISCOGRAPHY = "discography"

# A component's value[x] (int: injection order; str: pain location), or why it is absent.
ComponentValue = CodeableConcept | Quantity | int | str | DataAbsentReason


def level_observation(
    level: Level,
    result: LevelResult,
    *,
    identity: ResourceIdentity,
    procedure: ResourceIdentity,
    chart: ChartReferences,
    performed: datetime | None,
    pressure_bands: tuple[PressureBand, ...] | None,
) -> Observation:
    """The Observation of one level. `pressure_bands` are the pressure-sensitivity bands of
    the level's rule set (empty: it does not classify pressure sensitivity; None: not known)."""
    return Observation(
        meta=profile_meta(LEVEL_OBSERVATION_PROFILE),
        identifier=[identity.identifier()],
        partOf=[procedure.reference()],
        # R4 observation-status `cancelled`: "not started or not completed (also sometimes
        # called 'aborted')" — a level whose needle never reached the nucleus has no result;
        # its technical-result component says why.
        status="final" if level.completed else NOT_COMPLETED_STATUS,
        category=[hl7_concept(OBSERVATION_CATEGORY_PROCEDURE)],
        code=product_concept(_DISCOGRAPHY, "disc-level-result", text=LEVEL_RESULT_TEXT),
        subject=chart.patient,
        encounter=chart.encounter,
        effectiveDateTime=performed,
        performer=[chart.performer] if chart.performer is not None else None,
        interpretation=[
            hl7_concept(
                Hl7Code("v3-ObservationInterpretation", result.interpretation.value),
                text=INTERPRETATION_TEXT[result.interpretation],
            )
        ],
        note=_notes(level),
        bodySite=disc_concept(level.level),
        component=_components(level, result, pressure_bands),
    )


def _notes(level: Level) -> list[Annotation] | None:
    notes = []
    if level.comment is not None:
        notes.append(Annotation(text=level.comment))
    if level.abort_reason is not None:
        notes.append(Annotation(text=f"Abort reason: {level.abort_reason}"))
    return notes or None


def _components(
    level: Level, result: LevelResult, pressure_bands: tuple[PressureBand, ...] | None
) -> list[ObservationComponent]:
    no_pain = not painful(level)

    def absent(*, not_applicable: bool = False) -> DataAbsentReason:
        # A level that was not completed was not measured, whatever else holds.
        if not level.completed:
            return DataAbsentReason.NOT_PERFORMED
        return DataAbsentReason.NOT_APPLICABLE if not_applicable else DataAbsentReason.UNKNOWN

    def concept(
        system_id: str, code: str | None, **why: bool
    ) -> CodeableConcept | DataAbsentReason:
        return product_concept(system_id, code) if code is not None else absent(**why)

    def psi(value: float | None, **why: bool) -> Quantity | DataAbsentReason:
        return ucum_quantity(value, "[psi]", unit="psi") if value is not None else absent(**why)

    def ml(value: float | None, **why: bool) -> Quantity | DataAbsentReason:
        return ucum_quantity(value, "mL", unit="mL") if value is not None else absent(**why)

    intensity = (
        ucum_quantity(level.pain_intensity, "{score}", unit="{score}")
        if level.pain_intensity is not None
        else absent()
    )
    values: list[tuple[CodeableConcept, ComponentValue]] = [
        (_code("level-role"), product_concept("level-role", level.role.value)),
        (_code("injection-order"), level.order if level.order is not None else absent()),
        (
            _code("technical-result"),
            product_concept("technical-result", level.technical_result.value),
        ),
        (standard_concept("loinc", PAIN_INTENSITY_LOINC), intensity),
        (
            _code("pain-response"),
            concept("pain-response", _value(level.pain_response)),
        ),
        (
            _code("pain-location"),
            level.pain_location
            if level.pain_location is not None
            else absent(not_applicable=no_pain),
        ),
        (_code("opening-pressure"), psi(level.opening_pressure_psi)),
        (_code("onset-pressure"), psi(level.onset_pressure_psi, not_applicable=no_pain)),
        (_code("peak-pressure"), psi(level.peak_pressure_psi)),
        (_code("delta-pressure"), psi(level.delta_p_psi, not_applicable=no_pain)),
        (_code("onset-volume"), ml(level.onset_volume_ml, not_applicable=no_pain)),
        (_code("total-volume"), ml(level.total_volume_ml)),
        (_code("nucleogram"), concept("nucleogram", _text(level.nucleogram))),
        (_code("dallas-grade"), concept("dallas-grade", _text(level.dallas_grade))),
        (_code("contrast-leak"), concept("contrast-leak", _value(level.leak))),
        (_code("level-category"), product_concept("level-category", result.category.value)),
        (
            _code("pressure-sensitivity"),
            product_concept("pressure-sensitivity", result.pressure_sensitivity.value)
            if result.pressure_sensitivity is not None
            else pressure_sensitivity_absence(level, pressure_bands),
        ),
    ]
    return [_component(code, value) for code, value in values]


def pressure_sensitivity_absence(
    level: Level, pressure_bands: tuple[PressureBand, ...] | None
) -> DataAbsentReason:
    """Why a level has no pressure-sensitivity class."""
    if not level.completed:
        return DataAbsentReason.NOT_PERFORMED
    if pressure_bands is None:
        return DataAbsentReason.UNKNOWN  # the rule set is not at hand: we cannot tell
    if not pressure_bands:
        return DataAbsentReason.NOT_APPLICABLE  # the rule set defines no classes
    # The pressures the classification is judged on (interpretation.pressure_sensitivity).
    needed = (
        (level.opening_pressure_psi, level.onset_pressure_psi)
        if painful(level)
        else (level.opening_pressure_psi, level.peak_pressure_psi)
    )
    if None in needed:
        return DataAbsentReason.UNKNOWN  # the pressures it is judged on were not recorded
    # Pressures recorded, yet no class: no band classifies this kind of response at this ΔP.
    return DataAbsentReason.NOT_APPLICABLE


def _component(code: CodeableConcept, value: ComponentValue) -> ObservationComponent:
    if isinstance(value, DataAbsentReason):
        return ObservationComponent(code=code, dataAbsentReason=data_absent(value))
    if isinstance(value, CodeableConcept):
        return ObservationComponent(code=code, valueCodeableConcept=value)
    if isinstance(value, Quantity):
        return ObservationComponent(code=code, valueQuantity=value)
    if isinstance(value, int):
        return ObservationComponent(code=code, valueInteger=value)
    return ObservationComponent(code=code, valueString=value)


def _code(code: str) -> CodeableConcept:
    return product_concept(_DISCOGRAPHY, code)


def _value(member: StrEnum | None) -> str | None:
    return member.value if member is not None else None


def _text(number: int | None) -> str | None:
    return str(number) if number is not None else None
