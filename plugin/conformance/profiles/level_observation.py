"""Profile `discography-level-observation`: the result of injecting one disc.

One Observation per level, with no value of its own: its 17 components carry the measurements
and the rule set's category, each a value or a dataAbsentReason.
"""

from __future__ import annotations

from plugin.conformance.base_elements import ElementDefinition
from plugin.conformance.canonicals import value_set_url
from plugin.conformance.differential import (
    coding_pattern,
    declares_profile,
    element,
    identifier_slices,
    invariant,
    pattern_slicing,
    quantity_elements,
    reference_to,
    required_binding,
    single_coded_slice,
)
from plugin.conformance.level_components import (
    LEVEL_COMPONENTS,
    PAIN_INTENSITY_LOINC,
    ComponentValue,
    LevelComponent,
)
from plugin.conformance.statuses import OBSERVATION_STATUS, status_binding
from plugin.conformance.structure_definition import Profile
from plugin.conformance.value_sets import (
    COMPONENT_VALUE_SET,
    DATA_ABSENT_REASON_VALUE_SET,
    DISC_VALUE_SET,
    INTERPRETATION_VALUE_SET,
)
from plugin.fhir_mapping.coding import OBSERVATION_CATEGORY_PROCEDURE
from plugin.fhir_mapping.profiles import LEVEL_OBSERVATION_PROFILE, profile_url
from plugin.interpretation.results import FHIR_INTERPRETATION_BY_CATEGORY, FhirInterpretation
from plugin.study.model import TechnicalResult
from plugin.terminology import code_system_url, system_url

__all__ = ["level_observation_profile"]

_URL = profile_url(LEVEL_OBSERVATION_PROFILE)
_DISCOGRAPHY = code_system_url("discography")
_OBS = "Observation"
_COMPONENT = f"{_OBS}.component"


# The invariants pick components by code alone: fhirpathpy is slow enough that matching the
# system as well would double the validation time of a study, and the components' code
# binding and slices already hold each code to its system.
def _codes(components: list[LevelComponent]) -> str:
    return " | ".join(f"'{c.code}'" for c in components)


def _by_code(code: str) -> LevelComponent:
    return next(c for c in LEVEL_COMPONENTS if c.code == code)


def _completed_level_invariant() -> dict[str, object]:
    required = [
        _by_code("technical-result"),
        _by_code(PAIN_INTENSITY_LOINC),
        _by_code("pain-response"),
        _by_code("level-role"),
        _by_code("level-category"),
    ]
    return invariant(
        "dgm-obs-1",
        "A completed level has real values (not a dataAbsentReason) for technical result, "
        "pain intensity, pain response, level role and level category",
        f"component.where(code.coding.code contains 'technical-result').value.coding.code "
        f"contains '{TechnicalResult.COMPLETED.value}' implies "
        f"component.where(value.empty()).code.coding.code.intersect({_codes(required)}).empty()",
        _URL,
    )


def _interpretation_invariant() -> dict[str, object]:
    def categories(interpretation: FhirInterpretation) -> str:
        return " | ".join(
            f"'{category.value}'"
            for category, implied in FHIR_INTERPRETATION_BY_CATEGORY.items()
            if implied is interpretation
        )

    positive = categories(FhirInterpretation.POS)
    negative = categories(FhirInterpretation.NEG)
    return invariant(
        "dgm-obs-2",
        "The interpretation follows the level category: definite, highly probable, probable "
        "and positive are POS; negative is NEG; indeterminate and not assessable are IND",
        "component.where(code.coding.code contains 'level-category').value.coding.code"
        f".select(iif($this in ({positive}), '{FhirInterpretation.POS.value}', "
        f"iif($this in ({negative}), '{FhirInterpretation.NEG.value}', "
        f"'{FhirInterpretation.IND.value}')))"
        ".subsetOf(%resource.interpretation.coding.code)",
        _URL,
    )


def _component_slice(component: LevelComponent) -> list[ElementDefinition]:
    slice_id = f"{_COMPONENT}:{component.slice_name}"
    value_id = f"{slice_id}.value[x]"
    elements = [
        element(
            slice_id,
            short=component.short,
            definition=component.definition,
            min=1,
            max="1",
            mustSupport=True,
        ),
        element(
            f"{slice_id}.code",
            patternCodeableConcept=coding_pattern(component.system, component.code),
        ),
    ]
    value = element(value_id, type=[{"code": component.value.value}], mustSupport=True)
    if component.always_valued:
        value["min"] = 1
    if component.value is ComponentValue.CODEABLE_CONCEPT:
        assert component.value_set is not None
        value["binding"] = required_binding(
            value_set_url(component.value_set), f"{component.short} codes"
        )
    if component.value is ComponentValue.INTEGER and component.minimum is not None:
        value["minValueInteger"] = int(component.minimum)
    elements.append(value)
    if component.value is ComponentValue.QUANTITY:
        assert component.unit is not None and component.ucum is not None
        elements += quantity_elements(
            value_id,
            unit=component.unit,
            system=system_url("ucum"),
            code=component.ucum,
            minimum=component.minimum,
            maximum=component.maximum,
        )
    elements.append(
        element(f"{slice_id}.dataAbsentReason", max="0")
        if component.always_valued
        else element(f"{slice_id}.dataAbsentReason", mustSupport=True)
    )
    return elements


def level_observation_profile() -> Profile:
    differential: list[ElementDefinition] = [
        element(
            _OBS,
            short="Provocative discography level result",
            definition="The result of injecting one intervertebral disc during provocative "
            "discography: the measurements and the patient's response as components, the "
            "rule set's category as a component and as the interpretation.",
            constraint=[
                declares_profile(_URL),
                _completed_level_invariant(),
                _interpretation_invariant(),
            ],
        ),
        *identifier_slices(_OBS),
        element(f"{_OBS}.partOf", min=1, max="1", type=reference_to("Procedure"), mustSupport=True),
        element(f"{_OBS}.status", binding=status_binding(OBSERVATION_STATUS), mustSupport=True),
        *single_coded_slice(
            f"{_OBS}.category", "procedure", "Procedure result", OBSERVATION_CATEGORY_PROCEDURE
        ),
        element(
            f"{_OBS}.code",
            patternCodeableConcept=coding_pattern(_DISCOGRAPHY, "disc-level-result"),
            mustSupport=True,
        ),
        element(f"{_OBS}.subject", min=1, type=reference_to("Patient"), mustSupport=True),
        element(f"{_OBS}.encounter", mustSupport=True),
        element(f"{_OBS}.effective[x]", type=[{"code": "dateTime"}], mustSupport=True),
        element(f"{_OBS}.performer", mustSupport=True),
        element(
            f"{_OBS}.value[x]",
            max="0",
            comment="The level's results are its components; the Observation has no value.",
        ),
        element(f"{_OBS}.dataAbsentReason", max="0"),
        element(
            f"{_OBS}.interpretation",
            min=1,
            max="1",
            binding=required_binding(
                value_set_url(INTERPRETATION_VALUE_SET), "POS, NEG or IND by level category"
            ),
            mustSupport=True,
        ),
        element(f"{_OBS}.note", mustSupport=True),
        element(
            f"{_OBS}.bodySite",
            min=1,
            binding=required_binding(value_set_url(DISC_VALUE_SET), "The injected disc"),
            mustSupport=True,
        ),
        element(
            _COMPONENT,
            min=1,
            slicing=pattern_slicing(
                "code", "One component per measurement, by code, in this order", ordered=True
            ),
            constraint=[
                invariant(
                    "dgm-cmp-1",
                    "A component has either a value or a dataAbsentReason, not both",
                    "value.exists() xor dataAbsentReason.exists()",
                    _URL,
                )
            ],
            mustSupport=True,
        ),
        element(
            f"{_COMPONENT}.code",
            binding=required_binding(
                value_set_url(COMPONENT_VALUE_SET), "The measurements of a level"
            ),
        ),
        element(
            f"{_COMPONENT}.dataAbsentReason",
            binding=required_binding(
                value_set_url(DATA_ABSENT_REASON_VALUE_SET),
                "not-performed, not-applicable or unknown",
            ),
        ),
    ]
    for component in LEVEL_COMPONENTS:
        differential += _component_slice(component)
    return Profile(
        id=LEVEL_OBSERVATION_PROFILE,
        type=_OBS,
        name="DiscographyLevelObservation",
        title="Provocative discography level result",
        description="One injected disc of a provocative discography study: role, injection "
        "order, technical result, pain intensity and response, pressures, volumes, "
        "nucleogram, modified Dallas grade, contrast leak, and the interpretation rule set's "
        "category and pressure sensitivity.",
        differential=tuple(differential),
    )
