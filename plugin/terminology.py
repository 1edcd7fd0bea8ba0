"""Code systems the product writes: its own CodeSystems (defined here, published as FHIR
CodeSystem/ValueSet resources in `conformance/`) and the standard codes it may use, loaded from
`mappings/standard-codes.json` — the only place a LOINC, SNOMED CT or CPT code may come from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from plugin.resources import mappings_dir
from plugin.study.levels import Region

__all__ = [
    "CANONICAL_BASE",
    "INJECTION_CPT_BY_REGION",
    "PRODUCT_CODE_SYSTEMS",
    "STUDY_LOINC_BY_REGION",
    "ProductCodeSystem",
    "StandardCode",
    "code_system_url",
    "disc_snomed_code",
    "standard_code",
    "standard_codes",
    "system_url",
]

#: Canonical base of the product's conformance resources. `.example` is reserved (RFC 2606):
#: these canonicals identify, they are not meant to resolve.
CANONICAL_BASE = "https://discography-plugin.example/fhir"


@dataclass(frozen=True, slots=True)
class ProductCodeSystem:
    id: str
    title: str
    description: str
    concepts: tuple[tuple[str, str, str], ...]  # (code, display, definition)

    @property
    def url(self) -> str:
        return code_system_url(self.id)

    def display(self, code: str) -> str:
        for concept, display, _ in self.concepts:
            if concept == code:
                return display
        raise KeyError(f"{code!r} is not a code of CodeSystem {self.id}")


def code_system_url(cs_id: str) -> str:
    return f"{CANONICAL_BASE}/CodeSystem/{cs_id}"


_SYSTEMS: tuple[ProductCodeSystem, ...] = (
    ProductCodeSystem(
        "discography",
        "Discography observation, component and procedure codes",
        "Codes for provocative discography where no LOINC or SNOMED CT code exists "
        "(shared/clinical.md §5: none exists for opening pressure, injected volume, "
        "concordance, Dallas grade or the discography procedure itself).",
        (
            (
                "pregnancy-test",
                "Pregnancy test (hCG)",
                "A urine or serum test for human chorionic gonadotropin (hCG), ordered to "
                "establish pregnancy status before discography (fluoroscopy and contrast); its "
                "result is recorded as pregnancy status (LOINC 82810-3). A product code: the "
                "cited sources give no LOINC code for an orderable pregnancy test.",
            ),
            (
                "disc-level-result",
                "Provocative discography level result",
                "The result of injecting one intervertebral disc during provocative discography.",
            ),
            (
                "provocative-discography",
                "Provocative discography",
                "Fluoroscopically guided injection of contrast into one or more intervertebral "
                "discs to reproduce the patient's pain.",
            ),
            (
                "discogram-report",
                "Provocative discography report",
                "The structured report of a provocative discography study.",
            ),
            ("level-role", "Level role", "Whether the disc was suspected or tested as a control."),
            (
                "injection-order",
                "Injection order",
                "Position of the disc in the blinded injection order.",
            ),
            (
                "technical-result",
                "Technical result",
                "Whether the injection of the disc was completed.",
            ),
            (
                "pain-response",
                "Pain response",
                "Concordance of provoked pain with the familiar pain.",
            ),
            ("pain-location", "Pain location", "Where the provoked pain was felt."),
            (
                "opening-pressure",
                "Opening pressure",
                "Pressure at which contrast first flows into the disc.",
            ),
            ("onset-pressure", "Pressure at pain onset", "Absolute pressure when pain began."),
            ("peak-pressure", "Peak pressure", "Highest pressure reached during the injection."),
            (
                "delta-pressure",
                "Pressure at pain onset above opening pressure",
                "Onset pressure minus opening pressure (ΔP).",
            ),
            ("onset-volume", "Volume at pain onset", "Volume injected when pain began."),
            ("total-volume", "Total volume injected", "Total volume of contrast injected."),
            ("nucleogram", "Nucleogram pattern", "Adams nucleogram type."),
            ("dallas-grade", "Modified Dallas grade", "Annular disruption, modified Dallas scale."),
            ("contrast-leak", "Contrast leak", "Where contrast left the disc, if anywhere."),
            ("level-category", "Level category", "The rule set's category for the level."),
            (
                "pressure-sensitivity",
                "Pressure sensitivity",
                "Chemical, mechanical, indeterminate or normal pressure response.",
            ),
        ),
    ),
    ProductCodeSystem(
        "pain-response",
        "Pain response",
        "Concordance of the pain provoked by injecting a disc.",
        (
            ("concordant", "Concordant", "Reproduces the patient's familiar pain."),
            ("discordant", "Discordant", "Pain of a different quality or place."),
            ("none", "No pain", "No pain was provoked."),
        ),
    ),
    ProductCodeSystem(
        "technical-result",
        "Technical result",
        "Whether the injection of a disc was completed.",
        (
            ("completed", "Completed", "Contrast was injected into the nucleus."),
            ("not-entered", "Not entered", "The needle could not reach the nucleus."),
            ("aborted", "Aborted", "The injection was stopped before completion."),
        ),
    ),
    ProductCodeSystem(
        "level-role",
        "Level role",
        "Why a disc was injected.",
        (
            ("suspected", "Suspected", "Suspected pain generator."),
            (
                "control",
                "Control",
                "Disc not suspected on imaging, tested to validate the response.",
            ),
        ),
    ),
    ProductCodeSystem(
        "nucleogram",
        "Nucleogram pattern (Adams)",
        "Adams, Dolan & Hutton 1986 nucleogram types (to verify, shared/clinical.md §1).",
        (
            ("1", "Cotton-ball", "Type 1: cotton-ball."),
            ("2", "Lobular", "Type 2: lobular."),
            ("3", "Irregular", "Type 3: irregular."),
            ("4", "Fissured", "Type 4: fissured."),
            ("5", "Ruptured", "Type 5: ruptured."),
        ),
    ),
    ProductCodeSystem(
        "dallas-grade",
        "Modified Dallas discogram scale",
        "Annular disruption graded 0–5 (shared/clinical.md §3).",
        (
            ("0", "Grade 0", "Contrast stays within the nucleus."),
            ("1", "Grade 1", "Fissure into the inner third of the annulus."),
            ("2", "Grade 2", "Fissure into the middle third of the annulus."),
            ("3", "Grade 3", "Fissure into the outer third, less than 30° of circumference."),
            ("4", "Grade 4", "Outer-third fissure spreading more than 30° circumferentially."),
            ("5", "Grade 5", "Full-thickness tear with contrast leaking outside the annulus."),
        ),
    ),
    ProductCodeSystem(
        "contrast-leak",
        "Contrast leak",
        "Where contrast left the disc.",
        (
            ("none", "None", "No leak."),
            ("epidural", "Epidural", "Contrast leaked into the epidural space."),
            ("foraminal", "Foraminal", "Contrast leaked into the foramen."),
            ("vascular", "Vascular", "Contrast entered a vessel."),
            ("other", "Other", "Contrast leaked elsewhere."),
        ),
    ),
    ProductCodeSystem(
        "level-category",
        "Discography level category",
        "Categories of the product's interpretation rule sets (shared/clinical.md §2).",
        (
            (
                "definite",
                "Definite discogenic pain",
                "lumbar-manometric: ΔP < 15, all adjacent discs negative controls.",
            ),
            (
                "highly-probable",
                "Highly probable discogenic pain",
                "lumbar-manometric: ΔP < 15, one adjacent negative control.",
            ),
            (
                "probable",
                "Probable discogenic pain",
                "lumbar-manometric: 15 ≤ ΔP < 50, one adjacent negative control.",
            ),
            ("positive", "Positive", "cervical-triangulation: all criteria hold."),
            ("negative", "Negative", "The level's response is not positive."),
            (
                "indeterminate",
                "Indeterminate",
                "A positive response without a valid control or another required criterion.",
            ),
            ("not-assessable", "Not assessable", "The injection of the level was not completed."),
        ),
    ),
    ProductCodeSystem(
        "pressure-sensitivity",
        "Pressure sensitivity",
        "Derby et al. 1999 pressure-sensitivity classes (to verify, shared/clinical.md §2a).",
        (
            ("chemical", "Chemical", "Pain at ΔP < 15 psi."),
            ("mechanical", "Mechanical", "Pain at 15 ≤ ΔP < 50 psi."),
            ("indeterminate-pressure", "Indeterminate", "Pain at 50 ≤ ΔP ≤ 90 psi."),
            ("normal", "Normal", "No pain up to ΔP above 90 psi."),
        ),
    ),
    ProductCodeSystem(
        "study-conclusion",
        "Discography study conclusion",
        "The study-level conclusion (shared/clinical.md §2c).",
        (
            (
                "discogenic-level-identified",
                "Discogenic level identified",
                "At least one level is positive with a valid control.",
            ),
            (
                "no-discogenic-level",
                "No discogenic level identified",
                "No level is positive, every suspected level was completed and judged, every "
                "level that could be assessed is negative or ruled out by its own recorded "
                "values (none awaits a control or a missing value), and concordant pain at high "
                "intensity, if any, has a valid negative control.",
            ),
            (
                "indeterminate-no-valid-control",
                "Study indeterminate: no valid control level",
                "No level is positive, and every concordant level at high intensity lacks a valid "
                "negative control, whatever its pressure, volume or Dallas grade; or every such "
                "level that its own recorded values do not rule out lacks one.",
            ),
            (
                "indeterminate-data-not-recorded",
                "Study indeterminate: data not recorded",
                "No level is positive, the study is not indeterminate for want of a valid "
                "control, and at least one level could not be judged because a value its rule "
                "set needs was not recorded (pain response or intensity, pressures, volume at "
                "pain onset or Dallas grade); with that value it might be positive, so the study "
                "is not negative.",
            ),
            (
                "indeterminate-no-level-assessable",
                "Study indeterminate: no level assessable",
                "No injection of the study was completed, so no level could be assessed.",
            ),
            (
                "indeterminate-suspected-level-not-assessable",
                "Study indeterminate: suspected level not assessable",
                "No level is positive, the study is not indeterminate for want of a valid "
                "control or of recorded data, and at least one suspected level (a disc the "
                "study was to test, not a control) was not completed (not entered or aborted). "
                "An incomplete level is not assessable, not negative, and the untested disc may "
                "be the painful one, so the study is not negative.",
            ),
        ),
    ),
    ProductCodeSystem(
        "complication",
        "Discography complication",
        "Complications of discography (shared/clinical.md §1).",
        (
            ("none", "None", "No complication."),
            ("discitis", "Discitis", "Infection of the disc space."),
            ("contrast-reaction", "Contrast reaction", "Reaction to the contrast medium."),
            ("vasovagal", "Vasovagal reaction", "Vasovagal episode."),
            ("dural-puncture", "Dural puncture", "Puncture of the dura."),
            ("increased-pain", "Increased pain", "Pain worse than before the procedure."),
            ("other", "Other", "Another complication, described in text."),
        ),
    ),
    ProductCodeSystem(
        "candidacy-outcome",
        "Discography candidacy outcome",
        "The outcome of assessing a patient's candidacy for provocative discography against a "
        "candidacy policy (shared/clinical.md §4).",
        (
            ("candidate", "Candidate", "Every criterion is met and no safety item needs action."),
            (
                "not-candidate",
                "Not a candidate",
                "A criterion is not met, or a safety item is a contraindication.",
            ),
            (
                "needs-review",
                "Needs review",
                "A criterion is unknown (the chart lacks the data) or a safety item needs action.",
            ),
        ),
    ),
    ProductCodeSystem(
        "candidacy-override-reason",
        "Reasons to override a discography candidacy card",
        "Why the ordering clinician proceeds with a discography order against the candidacy "
        "service's advice (CDS Hooks card overrideReasons).",
        (
            (
                "documented-elsewhere",
                "Criteria documented outside this chart",
                "The missing or unmet criteria are documented in records this chart does not hold.",
            ),
            (
                "safety-items-addressed",
                "Safety items already addressed",
                "The labs, drug holds or allergy precautions listed are already arranged.",
            ),
            (
                "clinical-judgement",
                "Clinical judgement after review",
                "The clinician reviewed the criteria and proceeds on clinical judgement.",
            ),
            (
                "assessment-incorrect",
                "Assessment does not match the chart",
                "The assessment misreads the chart; the clinician reports it for review.",
            ),
        ),
    ),
)

#: The product's own CodeSystems by id.
PRODUCT_CODE_SYSTEMS: dict[str, ProductCodeSystem] = {cs.id: cs for cs in _SYSTEMS}


@dataclass(frozen=True, slots=True)
class StandardCode:
    system: str  # URL
    code: str
    name: str  # descriptive text, sent as CodeableConcept.text, never as Coding.display


@cache
def _standard_table() -> dict[str, Any]:
    with (mappings_dir() / "standard-codes.json").open(encoding="utf-8") as handle:
        table: dict[str, Any] = json.load(handle)
    return table


def system_url(key: str) -> str:
    """URL of a standard system by short key: ``loinc``, ``snomed``, ``cpt``, ``ucum``, …"""
    return str(_standard_table()["systems"][key])


def standard_codes(key: str) -> dict[str, dict[str, Any]]:
    return dict(_standard_table()["codes"][key])


def standard_code(key: str, code: str) -> StandardCode:
    """A code from `mappings/standard-codes.json`; KeyError if the code is not listed there."""
    entry = _standard_table()["codes"][key][code]
    return StandardCode(system_url(key), code, str(entry["name"]))


def disc_snomed_code(level: str) -> StandardCode:
    """The SNOMED CT code of the intervertebral disc (DICOM CID 7604), e.g. L4-L5 → 84020006."""
    for code, entry in _standard_table()["codes"]["snomed"].items():
        if entry.get("level") == level:
            return StandardCode(system_url("snomed"), code, str(entry["name"]))
    raise KeyError(f"no SNOMED CT disc code for level {level!r}")


#: LOINC discography study codes by region (DiagnosticReport.code).
STUDY_LOINC_BY_REGION: dict[Region | None, str] = {
    Region.LUMBAR: "37193-0",
    Region.CERVICAL: "37192-2",
    Region.THORACIC: "70933-7",
    None: "24927-6",
}
#: CPT discography injection codes by region (Procedure.code).
INJECTION_CPT_BY_REGION: dict[Region, str] = {
    Region.LUMBAR: "62290",
    Region.CERVICAL: "62291",
    Region.THORACIC: "62291",
}
