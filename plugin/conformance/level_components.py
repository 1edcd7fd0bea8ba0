"""The components of a discography level Observation, in the order the product writes them.

Every level Observation carries all of them; a missing value is a dataAbsentReason, never zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from plugin.terminology import PRODUCT_CODE_SYSTEMS, code_system_url, standard_code, system_url

__all__ = ["LEVEL_COMPONENTS", "PAIN_INTENSITY_LOINC", "ComponentValue", "LevelComponent"]

#: Pain severity, 0–10 numeric rating (shared/clinical.md §1).
PAIN_INTENSITY_LOINC = "72514-3"


class ComponentValue(StrEnum):
    """The value[x] type of a component."""

    CODEABLE_CONCEPT = "CodeableConcept"
    QUANTITY = "Quantity"
    INTEGER = "integer"
    STRING = "string"


@dataclass(frozen=True, slots=True)
class LevelComponent:
    slice_name: str  # the profile's slice: "painIntensity"
    system: str
    code: str
    short: str
    definition: str
    value: ComponentValue
    value_set: str | None = None  # product CodeSystem id whose codes the value takes
    ucum: str | None = None  # for quantities: the UCUM code
    unit: str | None = None  # for quantities: the human unit
    minimum: float | None = None
    maximum: float | None = None

    @property
    def always_valued(self) -> bool:
        """Role and technical result always have a value: the study model defaults both."""
        return self.code in ("level-role", "technical-result")


_DEFINITIONS = {
    code: definition for code, _, definition in PRODUCT_CODE_SYSTEMS["discography"].concepts
}


def _product(slice_name: str, code: str, value: ComponentValue, **details: str) -> LevelComponent:
    return LevelComponent(
        slice_name,
        code_system_url("discography"),
        code,
        PRODUCT_CODE_SYSTEMS["discography"].display(code),
        _DEFINITIONS[code],
        value,
        value_set=details.get("value_set"),
        ucum=details.get("ucum"),
        unit=details.get("unit"),
        # Pressures and volumes cannot be negative; the injection order starts at 1.
        minimum={ComponentValue.QUANTITY: 0, ComponentValue.INTEGER: 1}.get(value),
    )


def _coded(slice_name: str, code: str) -> LevelComponent:
    """A component whose value is a code of the product CodeSystem named like the component."""
    return _product(slice_name, code, ComponentValue.CODEABLE_CONCEPT, value_set=code)


def _measured(slice_name: str, code: str, ucum: str, unit: str) -> LevelComponent:
    return _product(slice_name, code, ComponentValue.QUANTITY, ucum=ucum, unit=unit)


_PAIN = standard_code("loinc", PAIN_INTENSITY_LOINC)

LEVEL_COMPONENTS: tuple[LevelComponent, ...] = (
    _coded("levelRole", "level-role"),
    _product("injectionOrder", "injection-order", ComponentValue.INTEGER),
    _coded("technicalResult", "technical-result"),
    LevelComponent(
        "painIntensity",
        system_url("loinc"),
        PAIN_INTENSITY_LOINC,
        f"{_PAIN.name} (LOINC {PAIN_INTENSITY_LOINC})",
        "Intensity of the provoked pain on the 0–10 numeric rating scale.",
        ComponentValue.QUANTITY,
        ucum="{score}",
        unit="{score}",
        minimum=0,
        maximum=10,
    ),
    _coded("painResponse", "pain-response"),
    _product("painLocation", "pain-location", ComponentValue.STRING),
    _measured("openingPressure", "opening-pressure", "[psi]", "psi"),
    _measured("onsetPressure", "onset-pressure", "[psi]", "psi"),
    _measured("peakPressure", "peak-pressure", "[psi]", "psi"),
    _measured("deltaPressure", "delta-pressure", "[psi]", "psi"),
    _measured("onsetVolume", "onset-volume", "mL", "mL"),
    _measured("totalVolume", "total-volume", "mL", "mL"),
    _coded("nucleogram", "nucleogram"),
    _coded("dallasGrade", "dallas-grade"),
    _coded("contrastLeak", "contrast-leak"),
    _coded("levelCategory", "level-category"),
    _coded("pressureSensitivity", "pressure-sensitivity"),
)
