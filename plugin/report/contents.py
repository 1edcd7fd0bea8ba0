"""Builds the report document from a study and its interpretation (shared/clinical.md §6):
header, indication, consent and safety checks, technique, the levels, pressure–volume charts,
post-discogram CT, impression, complications, the basis of each level's category and any
data-quality warnings.

Pure: no I/O. What the study does not record is said to be not recorded, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from plugin.errors import InputProblemError, Problem
from plugin.interpretation.results import StudyInterpretation
from plugin.report import wording
from plugin.report.document import (
    BulletList,
    Field,
    FieldList,
    Prose,
    ReportDocument,
    Section,
)
from plugin.report.level_sections import (
    criteria_section,
    impression_section,
    levels_section,
    pressure_chart_section,
)
from plugin.report.tested_levels import TestedLevel, tested_levels
from plugin.study.model import Study, Technique
from plugin.terminology import PRODUCT_CODE_SYSTEMS

__all__ = ["REPORT_TITLE", "build_report_document"]

REPORT_TITLE = "Provocative discography report"
_NOT_IN_STUDY = f"{wording.NOT_RECORDED} (not recorded in the study)"

#: Words for the study fields a warning can name (plugin.study.validation field paths).
_FIELD_WORDS = {
    "level": "level",
    "role": "role",
    "order": "injection order",
    "technical_result": "injection result",
    "abort_reason": "reason stopped",
    "opening_pressure_psi": "opening pressure",
    "onset_pressure_psi": "pressure at pain onset",
    "peak_pressure_psi": "peak pressure",
    "onset_volume_ml": "volume at pain onset",
    "total_volume_ml": "total volume",
    "pain_intensity": "pain intensity",
    "pain_response": "pain response",
    "pain_location": "pain location",
    "nucleogram": "nucleogram",
    "dallas_grade": "Dallas grade",
    "leak": "contrast leak",
    "comment": "comment",
}
_LEVEL_PATH = re.compile(r"^levels\[(\d+)\](?:\.(\w+))?$")


def _paragraphs(text: str | None) -> tuple[str, ...]:
    if not text:
        return (_NOT_IN_STUDY,)
    lines = tuple(line for line in (wording.clean(p) for p in text.splitlines()) if line)
    return lines or (_NOT_IN_STUDY,)


def _short(text: str, limit: int = 60) -> str:
    """A name cut to fit a running page header."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _regions(tested: Sequence[TestedLevel]) -> str:
    regions = list(dict.fromkeys(t.level.region.value for t in tested))
    return " and ".join(regions).capitalize()


def _header(study: Study, issued: datetime, tested: Sequence[TestedLevel]) -> FieldList:
    return FieldList(
        (
            Field("Patient", wording.reference(study.patient)),
            Field("Performed", wording.date_time(study.performed)),
            Field("Performer", wording.reference(study.performer)),
            Field("Encounter", wording.reference(study.encounter)),
            Field("Report issued", wording.date_time(issued)),
            Field("Study", wording.text_or_missing(study.id)),
            Field(
                "Levels injected",
                f"{', '.join(t.name for t in tested)} ({_regions(tested).lower()})",
            ),
        )
    )


def _indication(study: Study, candidacy_summary: str | None) -> Section:
    indication = study.indication
    blocks: list[Prose | BulletList] = [Prose(_paragraphs(indication.text if indication else None))]
    if indication and indication.reason_references:
        blocks.append(
            BulletList(
                tuple(wording.reference(ref) for ref in indication.reason_references),
                label="Reasons in the chart",
            )
        )
    if indication and indication.criteria_met:
        blocks.append(
            BulletList(
                tuple(wording.clean(c) for c in indication.criteria_met),
                label="Candidacy criteria met",
            )
        )
    if candidacy_summary and candidacy_summary.strip():
        blocks.append(Prose(_paragraphs(candidacy_summary), label="Candidacy assessment"))
    return Section("indication", "Indication", tuple(blocks))


def _consent_and_safety(study: Study, candidacy_summary: str | None) -> Section:
    technique = study.technique or Technique()
    safety_review = (
        "See the candidacy assessment under Indication."
        if candidacy_summary and candidacy_summary.strip()
        else _NOT_IN_STUDY
    )
    return Section(
        "consent-safety",
        "Consent and safety checks",
        (
            FieldList(
                (
                    Field("Informed consent", _NOT_IN_STUDY),
                    Field("Pre-procedure safety review", safety_review),
                    Field(
                        "Intradiscal antibiotic",
                        wording.text_or_missing(technique.intradiscal_antibiotic),
                    ),
                    Field("Sedation", wording.text_or_missing(technique.sedation)),
                )
            ),
            Prose(
                (
                    "The study record has no consent or pre-procedure checklist fields; the "
                    "signed consent and the checklist are in the patient's chart.",
                )
            ),
        ),
    )


def _blinding(technique: Technique | None) -> str:
    if technique is None:
        return wording.NOT_RECORDED
    if technique.patient_blinded:
        return "The patient was not told which disc was injected."
    return "Not blinded: the patient knew which disc was injected."


def _order(tested: Sequence[TestedLevel]) -> str:
    ordered = sorted(
        (t for t in tested if t.level.order is not None), key=lambda t: t.level.order or 0
    )
    unordered = [t.name for t in tested if t.level.order is None]
    text = " → ".join(f"{t.level.order}. {t.name}" for t in ordered)
    if unordered:
        missing = f"order not recorded for {', '.join(unordered)}"
        text = f"{text}; {missing}" if text else missing
    return text


def _technique(study: Study, tested: Sequence[TestedLevel]) -> Section:
    technique = study.technique
    t = technique or Technique()
    value = wording.text_or_missing
    return Section(
        "technique",
        "Technique",
        (
            FieldList(
                (
                    Field("Approach", value(t.approach)),
                    Field("Needles", value(t.needle_gauges)),
                    Field("Sedation", value(t.sedation)),
                    Field("Contrast agent", value(t.contrast_agent)),
                    Field("Intradiscal antibiotic", value(t.intradiscal_antibiotic)),
                    Field("Manometer", value(t.manometer)),
                    Field("Blinding", _blinding(technique)),
                    Field("Injection order", _order(tested)),
                )
            ),
        ),
    )


def _complications(study: Study) -> Section:
    if not study.complications:
        block: Prose | BulletList = Prose((_NOT_IN_STUDY,))
    else:
        block = BulletList(tuple(wording.complication(c) for c in study.complications))
    return Section("complications", "Complications", (block,))


def _warning_place(path: str, study: Study) -> str:
    match = _LEVEL_PATH.match(path)
    if match:
        index, field = int(match.group(1)), match.group(2)
        name = study.levels[index].level if index < len(study.levels) else f"level {index + 1}"
        return f"{name}, {_FIELD_WORDS.get(field, field.replace('_', ' '))}" if field else name
    return path.replace("_", " ").replace(".", ", ") or "study"


def _warnings(study: Study, warnings: Sequence[Problem]) -> Section:
    items = tuple(f"{_warning_place(w.field, study)}: {wording.clean(w.message)}" for w in warnings)
    return Section(
        "warnings",
        "Data-quality warnings",
        (
            Prose(("Values that are possible but worth a second look before signing.",)),
            BulletList(items),
        ),
    )


def _subject(tested: Sequence[TestedLevel], interpretation: StudyInterpretation) -> str:
    conclusion = PRODUCT_CODE_SYSTEMS["study-conclusion"].display(
        interpretation.conclusion.code.value
    )
    return (
        f"{_regions(tested)} provocative discography of {', '.join(t.name for t in tested)}: "
        f"{conclusion}"
    )


def build_report_document(
    study: Study,
    interpretation: StudyInterpretation,
    *,
    issued: datetime,
    candidacy_summary: str | None = None,
    warnings: Sequence[Problem] = (),
) -> ReportDocument:
    """The report document. Raises `InputProblemError` when `issued` has no time zone or the
    interpretation does not describe the study's levels."""
    if issued.utcoffset() is None:
        raise InputProblemError(
            [
                Problem(
                    "issued",
                    "timezone-required",
                    "the report issue time must include a time zone "
                    "(e.g. 2026-11-20T10:15:00-05:00)",
                )
            ],
            "report input",
        )
    tested = tested_levels(study, interpretation)
    sections = [
        _indication(study, candidacy_summary),
        _consent_and_safety(study, candidacy_summary),
        _technique(study, tested),
        levels_section(tested),
        pressure_chart_section(tested),
        Section(
            "post-discogram-ct", "Post-discogram CT", (Prose(_paragraphs(study.post_discogram_ct)),)
        ),
        impression_section(tested, interpretation),
        _complications(study),
        criteria_section(tested),
    ]
    if warnings:
        sections.append(_warnings(study, warnings))
    patient = (
        _short(wording.clean(study.patient.display or study.patient.reference))
        if study.patient
        else "Patient not recorded"
    )
    performer = study.performer
    return ReportDocument(
        title=REPORT_TITLE,
        subtitle=f"{_regions(tested)} · {len(tested)} "
        f"{'level' if len(tested) == 1 else 'levels'} injected",
        identity=f"{patient} · performed {wording.date_time(study.performed)}",
        header=_header(study, issued, tested),
        conclusion=wording.clean(interpretation.conclusion.text),
        sections=tuple(sections),
        author=wording.clean(performer.display or performer.reference) if performer else "",
        subject=_subject(tested, interpretation),
        issued=wording.date_time(issued),
        footer_note=(
            "— = not recorded. Categories are computed from the recorded values by the rule "
            "sets named in the Impression."
        ),
    )
