"""Building blocks of a profile's differential: ElementDefinitions written in Python.

An element is named by its id (``Observation.component:painIntensity.value[x]``); its path and
slice name follow from the id. The profiles in `plugin.conformance.profiles` are lists of these.
"""

from __future__ import annotations

from typing import Any

from plugin.conformance.base_elements import ElementDefinition
from plugin.conformance.base_invariants import Invariant
from plugin.conformance.canonicals import base_definition_url
from plugin.conformance.issues import Severity
from plugin.fhir_mapping.coding import Hl7Code
from plugin.fhir_mapping.identifiers import IDENTIFIER_SYSTEM
from plugin.terminology import system_url

__all__ = [
    "coding_pattern",
    "declares_profile",
    "element",
    "hl7_pattern",
    "identifier_slices",
    "invariant",
    "path_of",
    "pattern_slicing",
    "quantity_elements",
    "reference_to",
    "required_binding",
    "single_coded_slice",
]


def path_of(element_id: str) -> str:
    """``Observation.component:painIntensity.code`` → ``Observation.component.code``."""
    return ".".join(part.split(":", 1)[0] for part in element_id.split("."))


def element(element_id: str, **properties: Any) -> ElementDefinition:
    """A differential element; keyword names are ElementDefinition's (``min``, ``max``,
    ``patternCodeableConcept``, ``constraint`` …)."""
    definition: ElementDefinition = {"id": element_id, "path": path_of(element_id)}
    last = element_id.rsplit(".", 1)[-1]
    if ":" in last:
        definition["sliceName"] = last.split(":", 1)[1]
    definition.update(properties)
    return definition


def coding_pattern(system: str, code: str) -> dict[str, Any]:
    """A patternCodeableConcept requiring one coding with this system and code (display and
    other codings free)."""
    return {"coding": [{"system": system, "code": code}]}


def required_binding(value_set: str, description: str) -> dict[str, Any]:
    return {"strength": "required", "description": description, "valueSet": value_set}


def reference_to(*targets: str) -> list[dict[str, Any]]:
    """A Reference type limited to resource types (``"Patient"``) or profiles (full URLs)."""
    profiles = [t if "://" in t else base_definition_url(t) for t in targets]
    return [{"code": "Reference", "targetProfile": profiles}]


def invariant(key: str, human: str, expression: str, source: str) -> dict[str, Any]:
    """A profile invariant (an ElementDefinition.constraint), always an error."""
    return Invariant(key, Severity.ERROR, human, expression, source).as_constraint()


def declares_profile(url: str) -> dict[str, Any]:
    """Root invariant: the resource names its profile in meta.profile (the product's
    resources always do, so that any validator knows what to check them against)."""
    return invariant(
        "dgm-profile",
        f"meta.profile lists {url}",
        f"meta.profile.where($this = '{url}').exists()",
        url,
    )


def pattern_slicing(path: str, description: str, *, ordered: bool = False) -> dict[str, Any]:
    """Open slicing told apart by the pattern at `path` (``$this`` for the element itself)."""
    return {
        "discriminator": [{"type": "pattern", "path": path}],
        "description": description,
        "ordered": ordered,
        "rules": "open",
    }


def identifier_slices(type_name: str) -> list[ElementDefinition]:
    """``identifier``: exactly one in the product's system, with a value; others allowed (an
    EHR may add its own)."""
    return [
        element(
            f"{type_name}.identifier",
            min=1,
            slicing=pattern_slicing("$this", "The product's business identifier, by system"),
            mustSupport=True,
        ),
        element(
            f"{type_name}.identifier:discography",
            short="The product's identifier, stable for a study",
            min=1,
            max="1",
            patternIdentifier={"system": IDENTIFIER_SYSTEM},
            mustSupport=True,
        ),
        element(f"{type_name}.identifier:discography.value", min=1),
    ]


def hl7_pattern(code: Hl7Code) -> dict[str, Any]:
    """A patternCodeableConcept for one of the HL7 codes the mapper writes."""
    return coding_pattern(system_url(code.system_key), code.code)


def single_coded_slice(
    element_id: str, slice_name: str, short: str, code: Hl7Code
) -> list[ElementDefinition]:
    """A repeating CodeableConcept that must include one occurrence with this code, e.g. the
    ``procedure`` category of an Observation; other occurrences stay allowed."""
    system = system_url(code.system_key)
    return [
        element(
            element_id,
            min=1,
            slicing=pattern_slicing("$this", f"By code: must include {system}|{code.code}"),
            mustSupport=True,
        ),
        element(
            f"{element_id}:{slice_name}",
            short=short,
            min=1,
            max="1",
            patternCodeableConcept=hl7_pattern(code),
            mustSupport=True,
        ),
    ]


def quantity_elements(
    element_id: str,
    *,
    unit: str,
    system: str,
    code: str,
    minimum: float | None = None,
    maximum: float | None = None,
) -> list[ElementDefinition]:
    """Children of a Quantity-typed element (`element_id` is the Quantity element): a value is
    required, in one fixed UCUM unit; no comparator (the product records what it measured)."""
    value = element(f"{element_id}.value", min=1)
    if minimum is not None:
        value["minValueDecimal"] = minimum
    if maximum is not None:
        value["maxValueDecimal"] = maximum
    return [
        value,
        element(f"{element_id}.comparator", max="0"),
        element(f"{element_id}.unit", min=1, fixedString=unit),
        element(f"{element_id}.system", min=1, fixedUri=system),
        element(f"{element_id}.code", min=1, fixedCode=code),
    ]
