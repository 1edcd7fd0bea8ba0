"""The criteria both methods share, each judged on one level into a `CriterionResult`.

A criterion is *met* or *failed* on recorded values and *not-recorded* when a value it needs
is missing; the method decides what a missing value means for the category.
"""

from __future__ import annotations

from plugin.interpretation.number_text import number_text
from plugin.interpretation.results import CriterionResult, CriterionStatus, CriterionValue
from plugin.interpretation.thresholds import (
    GradeThreshold,
    IntensityThreshold,
    PressureThreshold,
    Threshold,
    VolumeThreshold,
    number_shown,
)
from plugin.study.model import Level, PainResponse

__all__ = [
    "annular_disruption",
    "completed",
    "concordant",
    "intensity",
    "low_pressure",
    "not_assessed",
    "onset_volume",
    "painful",
    "shown",
    "technical_words",
]


def shown(value: float) -> str:
    """A measurement as a clinician writes it: 10.0 → "10", 14.9 → "14.9", never rounded."""
    return number_text(value)


def painful(level: Level) -> bool:
    """Pain was provoked: an intensity above 0, or a pain response other than none."""
    if level.pain_intensity is not None:
        return level.pain_intensity > 0
    return level.pain_response in (PainResponse.CONCORDANT, PainResponse.DISCORDANT)


def technical_words(level: Level) -> str:
    """``"completed"``, ``"not entered"``, ``"aborted (vasovagal episode)"``."""
    words = level.technical_result.value.replace("-", " ")
    aborted = level.abort_reason is not None and not level.completed
    return f"{words} ({level.abort_reason})" if aborted else words


def not_assessed(result: CriterionResult, level: Level) -> CriterionResult:
    """The criterion of a level whose injection was not completed: nothing is judged, even if
    values were recorded (validation warns about those)."""
    return CriterionResult(
        id=result.id,
        description=result.description,
        status=CriterionStatus.NOT_RECORDED,
        values={"technical_result": level.technical_result.value},
        explanation=f"Not assessed: the injection was {technical_words(level)}.",
    )


def completed(level: Level) -> CriterionResult:
    ok = level.completed
    reason = "" if ok else f" ({technical_words(level)})"
    return CriterionResult(
        id="completed",
        description="the injection reached the nucleus and was completed",
        status=CriterionStatus.MET if ok else CriterionStatus.FAILED,
        values={"technical_result": level.technical_result.value},
        explanation=f"The injection was {'completed' if ok else 'not completed'}{reason}.",
    )


def concordant(level: Level) -> CriterionResult:
    response = level.pain_response
    description = "the provoked pain is concordant (reproduces the familiar pain)"
    if response is None:
        return CriterionResult(
            id="concordant",
            description=description,
            status=CriterionStatus.NOT_RECORDED,
            explanation="The pain response was not recorded.",
        )
    words = {
        PainResponse.CONCORDANT: "The pain was concordant with the familiar pain.",
        PainResponse.DISCORDANT: "The pain was discordant (different quality or place).",
        PainResponse.NONE: "No pain was provoked.",
    }
    return CriterionResult(
        id="concordant",
        description=description,
        status=CriterionStatus.MET
        if response is PainResponse.CONCORDANT
        else CriterionStatus.FAILED,
        values={"pain_response": response.value},
        explanation=words[response],
    )


def intensity(level: Level, threshold: IntensityThreshold) -> CriterionResult:
    description = f"pain intensity {threshold.describe()}"
    if level.pain_intensity is None:
        return CriterionResult(
            id="intensity",
            description=description,
            status=CriterionStatus.NOT_RECORDED,
            values=_threshold_values(threshold),
            explanation="The pain intensity was not recorded.",
        )
    return _compared(
        "intensity",
        description,
        f"pain intensity {level.pain_intensity}/10",
        "pain_intensity",
        level.pain_intensity,
        threshold,
    )


def low_pressure(level: Level, threshold: PressureThreshold, criterion_id: str) -> CriterionResult:
    """Pain began at a ΔP meeting `threshold`; failed when no pain was provoked at all."""
    description = (
        f"pain provoked at ΔP {threshold.describe()} (pressure at pain onset above opening "
        "pressure)"
    )
    delta_p = level.delta_p_psi
    if delta_p is None:
        if not painful(level):
            return CriterionResult(
                id=criterion_id,
                description=description,
                status=CriterionStatus.FAILED,
                values=_threshold_values(threshold),
                explanation="No pain was provoked, so there is no pressure at pain onset.",
            )
        missing = [
            name
            for name, value in (
                ("opening pressure", level.opening_pressure_psi),
                ("pressure at pain onset", level.onset_pressure_psi),
            )
            if value is None
        ]
        return CriterionResult(
            id=criterion_id,
            description=description,
            status=CriterionStatus.NOT_RECORDED,
            values=_threshold_values(threshold),
            explanation=f"ΔP cannot be computed: the {' and the '.join(missing)} "
            f"{'was' if len(missing) == 1 else 'were'} not recorded.",
        )
    result = _compared(
        criterion_id, description, f"ΔP {shown(delta_p)} psi", "delta_p_psi", delta_p, threshold
    )
    return result.model_copy(
        update={
            "values": {
                **result.values,
                "opening_pressure_psi": level.opening_pressure_psi,
                "onset_pressure_psi": level.onset_pressure_psi,
            }
        }
    )


def onset_volume(level: Level, threshold: VolumeThreshold) -> CriterionResult:
    description = f"volume at pain onset {threshold.describe()}"
    volume = level.onset_volume_ml
    if volume is None:
        provoked = painful(level)
        return CriterionResult(
            id="onset-volume",
            description=description,
            status=CriterionStatus.NOT_RECORDED if provoked else CriterionStatus.FAILED,
            values=_threshold_values(threshold),
            explanation="The volume at pain onset was not recorded."
            if provoked
            else "No pain was provoked, so there is no volume at pain onset.",
        )
    return _compared(
        "onset-volume",
        description,
        f"volume at pain onset {shown(volume)} mL",
        "onset_volume_ml",
        volume,
        threshold,
    )


def annular_disruption(level: Level, threshold: GradeThreshold) -> CriterionResult:
    description = f"annular disruption: modified Dallas grade {threshold.describe()}"
    if level.dallas_grade is None:
        return CriterionResult(
            id="annular-disruption",
            description=description,
            status=CriterionStatus.NOT_RECORDED,
            values=_threshold_values(threshold),
            explanation="The modified Dallas grade was not recorded.",
        )
    return _compared(
        "annular-disruption",
        description,
        f"modified Dallas grade {level.dallas_grade}",
        "dallas_grade",
        level.dallas_grade,
        threshold,
    )


def _compared(
    criterion_id: str,
    description: str,
    measured_words: str,
    measured_name: str,
    measured: float,
    threshold: Threshold,
) -> CriterionResult:
    ok = threshold.holds(measured)
    verb = "meets" if ok else "does not meet"
    values: dict[str, CriterionValue] = {
        measured_name: number_shown(measured),
        **_threshold_values(threshold),
    }
    return CriterionResult(
        id=criterion_id,
        description=description,
        status=CriterionStatus.MET if ok else CriterionStatus.FAILED,
        values=values,
        explanation=f"{measured_words[:1].upper()}{measured_words[1:]} {verb} "
        f"{threshold.describe()}.",
    )


def _threshold_values(threshold: Threshold) -> dict[str, CriterionValue]:
    return {"threshold": threshold.shown, "operator": threshold.operator.value}
