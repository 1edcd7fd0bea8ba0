"""Profile `discography-procedure`: the discography procedure itself.

Coded with the CPT injection code of each region injected and the product's procedure code
(no SNOMED CT code for discography was found; shared/clinical.md §5), one bodySite per disc.
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
    reference_to,
    required_binding,
)
from plugin.conformance.statuses import PROCEDURE_STATUS, status_binding
from plugin.conformance.structure_definition import Profile
from plugin.conformance.value_sets import DISC_VALUE_SET
from plugin.fhir_mapping.profiles import DIAGNOSTIC_REPORT_PROFILE, PROCEDURE_PROFILE, profile_url
from plugin.terminology import INJECTION_CPT_BY_REGION, code_system_url, system_url

__all__ = ["procedure_profile"]

_URL = profile_url(PROCEDURE_PROFILE)
_PROCEDURE = "Procedure"


def _cpt_invariant() -> dict[str, object]:
    cpt = system_url("cpt")
    codes = " | ".join(f"'{code}'" for code in dict.fromkeys(INJECTION_CPT_BY_REGION.values()))
    return invariant(
        "dgm-proc-1",
        f"The code includes the CPT discography injection code of each region injected "
        f"({', '.join(dict.fromkeys(INJECTION_CPT_BY_REGION.values()))})",
        f"coding.where(system = '{cpt}').exists() and "
        f"coding.where(system = '{cpt}').all(code in ({codes}))",
        _URL,
    )


def procedure_profile() -> Profile:
    differential: list[ElementDefinition] = [
        element(
            _PROCEDURE,
            short="Provocative discography",
            definition="A provocative discography study: fluoroscopically guided injection of "
            "contrast into one or more intervertebral discs to reproduce the patient's pain.",
            constraint=[declares_profile(_URL)],
        ),
        *identifier_slices(_PROCEDURE),
        element(f"{_PROCEDURE}.status", binding=status_binding(PROCEDURE_STATUS), mustSupport=True),
        element(
            f"{_PROCEDURE}.code",
            min=1,
            patternCodeableConcept=coding_pattern(
                code_system_url("discography"), "provocative-discography"
            ),
            constraint=[_cpt_invariant()],
            mustSupport=True,
        ),
        element(f"{_PROCEDURE}.subject", type=reference_to("Patient"), mustSupport=True),
        element(f"{_PROCEDURE}.encounter", mustSupport=True),
        element(f"{_PROCEDURE}.performed[x]", type=[{"code": "dateTime"}], mustSupport=True),
        element(f"{_PROCEDURE}.performer", mustSupport=True),
        element(f"{_PROCEDURE}.reasonCode", mustSupport=True),
        element(f"{_PROCEDURE}.reasonReference", mustSupport=True),
        element(
            f"{_PROCEDURE}.bodySite",
            min=1,
            binding=required_binding(value_set_url(DISC_VALUE_SET), "The injected discs"),
            mustSupport=True,
        ),
        element(
            f"{_PROCEDURE}.report",
            min=1,
            max="1",
            type=reference_to(profile_url(DIAGNOSTIC_REPORT_PROFILE)),
            mustSupport=True,
        ),
        element(
            f"{_PROCEDURE}.complication",
            binding=required_binding(value_set_url("complication"), "Complications of discography"),
            mustSupport=True,
        ),
    ]
    return Profile(
        id=PROCEDURE_PROFILE,
        type=_PROCEDURE,
        name="DiscographyProcedure",
        title="Provocative discography procedure",
        description="The discography procedure: CPT and product codes, the injected discs, "
        "indication, complications and the report it produced.",
        differential=tuple(differential),
    )
