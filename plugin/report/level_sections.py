"""The report sections about the injected levels: the diagram and tables, the pressure–volume
charts, the impression and the criteria behind each level's category."""

from __future__ import annotations

from collections.abc import Sequence

from plugin.interpretation.results import (
    CriterionStatus,
    LevelResult,
    StudyConclusionCode,
    StudyInterpretation,
)
from plugin.report import wording
from plugin.report.document import (
    BulletList,
    Cell,
    Column,
    Field,
    FieldList,
    FigureBlock,
    FigureRow,
    Prose,
    Section,
    Table,
    Tone,
)
from plugin.report.figures import Figure
from plugin.report.pressure_chart import ChartUnavailable, pressure_chart
from plugin.report.spine_diagram import spine_diagram_figure
from plugin.report.tested_levels import TestedLevel
from plugin.terminology import PRODUCT_CODE_SYSTEMS

__all__ = [
    "criteria_section",
    "impression_section",
    "levels_section",
    "pressure_chart_section",
]

_STATUS_TONES = {
    CriterionStatus.MET: Tone.MET,
    CriterionStatus.FAILED: Tone.FAILED,
    CriterionStatus.NOT_RECORDED: Tone.NOT_RECORDED,
}


def _mark_tone(tested: TestedLevel) -> Tone:
    return Tone(tested.mark.value)


def _delta_p(tested: TestedLevel) -> float | None:
    """ΔP as the interpretation used it, else as recorded."""
    if tested.result.delta_p_psi is not None:
        return tested.result.delta_p_psi
    return tested.level.delta_p_psi


def _scale_note(system: str, heading: str) -> str:
    concepts = PRODUCT_CODE_SYSTEMS[system].concepts
    return f"{heading}: " + "; ".join(
        f"{code} {definition.rstrip('.').lower()}" for code, _, definition in concepts
    )


def _nucleogram_note() -> str:
    concepts = PRODUCT_CODE_SYSTEMS["nucleogram"].concepts
    return "Nucleogram (Adams): " + ", ".join(
        f"{code} {display.lower()}" for code, display, _ in concepts
    )


def _manometry_table(tested: Sequence[TestedLevel]) -> Table:
    columns = (
        Column("Level"),
        Column("Role"),
        Column("Order", numeric=True),
        Column("Injection"),
        Column("Opening psi", numeric=True),
        Column("Onset psi", numeric=True),
        Column("Peak psi", numeric=True),
        Column("ΔP psi", numeric=True),
        Column("Onset volume mL", numeric=True),
        Column("Total volume mL", numeric=True),
    )
    rows = tuple(
        (
            Cell(t.name, _mark_tone(t)),
            Cell(wording.role(t.level.role)),
            Cell(wording.NOT_RECORDED if t.level.order is None else str(t.level.order)),
            Cell(wording.technical_result(t.level.technical_result)),
            Cell(wording.psi(t.level.opening_pressure_psi)),
            Cell(wording.psi(t.level.onset_pressure_psi)),
            Cell(wording.psi(t.level.peak_pressure_psi)),
            Cell(wording.psi(_delta_p(t))),
            Cell(wording.millilitres(t.level.onset_volume_ml)),
            Cell(wording.millilitres(t.level.total_volume_ml)),
        )
        for t in tested
    )
    return Table(
        "Injection and manometry",
        columns,
        rows,
        notes=(
            "Order: position in the blinded injection sequence. ΔP: pressure at pain onset "
            "minus opening pressure. — = not recorded.",
        ),
    )


def _pain_table(tested: Sequence[TestedLevel]) -> Table:
    columns = (
        Column("Level"),
        Column("Intensity (0–10)", numeric=True),
        Column("Response"),
        Column("Location", wide=True),
    )
    rows = tuple(
        (
            Cell(t.name, _mark_tone(t)),
            Cell(wording.pain_intensity(t.level.pain_intensity)),
            Cell(wording.pain_response(t.level.pain_response)),
            Cell(wording.text_or_missing(t.level.pain_location)),
        )
        for t in tested
    )
    return Table("Provoked pain", columns, rows)


def _result_table(tested: Sequence[TestedLevel]) -> Table:
    columns = (
        Column("Level"),
        Column("Nucleogram"),
        Column("Dallas grade", numeric=True),
        Column("Contrast leak"),
        Column("Category"),
        Column("Pressure sensitivity"),
        Column("Interpretation"),
    )
    rows = tuple(
        (
            Cell(t.name, _mark_tone(t)),
            Cell(wording.nucleogram(t.level.nucleogram)),
            Cell(wording.dallas_grade(t.level.dallas_grade)),
            Cell(wording.leak(t.level.leak)),
            Cell(wording.category_name(t.result.category), _mark_tone(t)),
            Cell(wording.pressure_sensitivity(t.result.pressure_sensitivity)),
            Cell(wording.interpretation_name(t.result.interpretation), _mark_tone(t)),
        )
        for t in tested
    )
    return Table(
        "Disc morphology and result",
        columns,
        rows,
        notes=(
            _nucleogram_note() + ".",
            _scale_note("dallas-grade", "Modified Dallas grade") + ".",
            "Interpretation: FHIR ObservationInterpretation code (POS positive, NEG negative, "
            "IND indeterminate).",
        ),
    )


def levels_section(tested: Sequence[TestedLevel]) -> Section:
    return Section(
        "levels",
        "Levels injected",
        (
            FigureBlock(
                spine_diagram_figure(tested),
                "Discs injected, marked by result; the key gives each result's colour, marker "
                "shape and symbol.",
            ),
            _manometry_table(tested),
            _pain_table(tested),
            _result_table(tested),
        ),
    )


def pressure_chart_section(tested: Sequence[TestedLevel]) -> Section:
    charts: list[FigureBlock] = []
    charted: list[TestedLevel] = []
    unavailable: list[str] = []
    for t in tested:
        chart = pressure_chart(t.level, t.result)
        if isinstance(chart, Figure):
            charted.append(t)
            caption = (
                f"{t.name}: {wording.category_name(t.result.category)} "
                f"({t.result.interpretation.value})."
            )
            charts.append(FigureBlock(chart, caption))
        elif isinstance(chart, ChartUnavailable):
            unavailable.append(f"{t.name}: not enough data for a chart ({chart.reason}).")
        else:
            unavailable.append(f"{t.name}: no pressures recorded (no manometry).")
    if (
        not charts
        and len(unavailable) == len(tested)
        and all("no manometry" in line for line in unavailable)
    ):
        return Section(
            "pressure-volume",
            "Pressure–volume charts",
            (Prose(("No manometry was recorded in this study, so there is no chart.",)),),
        )
    blocks: list[FigureRow | Prose | BulletList] = []
    if charts:
        blocks.append(FigureRow(tuple(charts)))
    blocks.append(
        Prose(
            (
                "Recorded points: opening pressure (open circle, at 0 mL), pain onset (filled "
                "circle, with intensity and response) and peak pressure (square, at the total "
                "volume), joined by straight lines; the trace between the points is not "
                f"recorded. {_reference_lines_note([t.result for t in charted])}",
            )
        )
    )
    if unavailable:
        blocks.append(BulletList(tuple(unavailable), label="Levels without a chart"))
    return Section("pressure-volume", "Pressure–volume charts", tuple(blocks))


def _reference_lines_note(results: Sequence[LevelResult]) -> str:
    """What the dashed lines are, in the values of each charted level's rule set."""
    by_rule_set: dict[str, tuple[str, ...]] = {}
    for result in results:
        limits = tuple(
            f"+ {wording.psi(limit.delta_p_psi, unit=True)} (ΔP {limit.comparison})"
            for limit in result.pressure_limits
        )
        by_rule_set.setdefault(_rule_set(result), limits)
    parts = [
        f"{name}: {' and '.join(limits)}" if limits else f"{name}: none (it sets no ΔP limit)"
        for name, limits in by_rule_set.items()
    ]
    return "Dashed lines: opening pressure + each ΔP limit of the level's rule set" + (
        f" — {'; '.join(parts)}." if parts else "."
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _words(reason: str) -> str:
    return reason.replace("-", " ").replace("_", " ")


def _rule_set(result: LevelResult) -> str:
    return f"{result.rule_set.id} version {result.rule_set.version}"


def _impression_line(tested: TestedLevel) -> str:
    result = tested.result
    parts = [
        f"{tested.name}: {wording.category_name(result.category)} ({result.interpretation.value})"
    ]
    dp = _delta_p(tested)
    if dp is not None:
        sensitivity = (
            f" ({wording.pressure_sensitivity(result.pressure_sensitivity).lower()})"
            if result.pressure_sensitivity
            else ""
        )
        parts.append(f"ΔP {wording.psi(dp, unit=True)}{sensitivity}")
    if result.controls:
        parts.append(f"valid control {wording.level_list(result.controls)}")
    if result.reason:
        parts.append(_words(result.reason))
    parts.append(f"rule set {_rule_set(result)}")
    return "; ".join(parts) + "."


def _control_validity(tested: Sequence[TestedLevel], interpretation: StudyInterpretation) -> str:
    pairs = [f"{', '.join(t.result.controls)} for {t.name}" for t in tested if t.result.controls]
    if interpretation.conclusion.valid_control:
        detail = f": {'; '.join(pairs)}" if pairs else ""
        return f"A valid negative control was obtained{detail}."
    code = interpretation.conclusion.code
    if code is StudyConclusionCode.INDETERMINATE_NO_CONTROL:
        return (
            "No valid negative control was obtained, so no level can be called positive "
            "(a concordant response without a painless control is not specific)."
        )
    # Otherwise no level gave concordant pain at high intensity (the conclusion would say so):
    # saying a control is missing would suggest a positive response went unconfirmed.
    if code is StudyConclusionCode.INDETERMINATE_NO_LEVEL_ASSESSABLE:
        return "No injection was completed, so no level could serve as a control."
    return (
        "Not applicable: no level gave concordant pain at high intensity, so there was no "
        "response for a negative control to validate."
    )


def impression_section(
    tested: Sequence[TestedLevel], interpretation: StudyInterpretation
) -> Section:
    rule_sets = tuple(
        f"{wording.clean(rs.title)} — id {rs.id}, version {rs.version}"
        for rs in interpretation.rule_sets
    )
    return Section(
        "impression",
        "Impression",
        (
            BulletList(tuple(_impression_line(t) for t in tested), label="By level"),
            Prose((_control_validity(tested, interpretation),), label="Control validity"),
            Prose(
                (wording.clean(interpretation.conclusion.text),), label="Conclusion", emphasis=True
            ),
            BulletList(rule_sets, label="Rule sets applied"),
        ),
    )


def _level_fields(tested: TestedLevel) -> FieldList:
    level, result = tested.level, tested.result
    fields = [
        Field("Rule set", f"{wording.clean(result.rule_set.title)} ({_rule_set(result)})"),
        Field("Role", wording.role(level.role)),
        Field("Injection", wording.technical_result(level.technical_result)),
    ]
    if level.abort_reason:
        fields.append(Field("Reason stopped", wording.clean(level.abort_reason)))
    fields.append(Field("ΔP", wording.psi(_delta_p(tested), unit=True)))
    fields.append(
        Field("Pressure sensitivity", wording.pressure_sensitivity(result.pressure_sensitivity))
    )
    fields.append(Field("Valid controls", wording.level_list(result.controls)))
    if result.reason:
        fields.append(Field("Qualifier", _words(result.reason)))
    if level.comment:
        fields.append(Field("Comment", wording.clean(level.comment)))
    return FieldList(tuple(fields))


def _criteria_table(tested: TestedLevel) -> Table:
    rows = tuple(
        (
            Cell(_sentence(wording.clean(c.description))),
            Cell(wording.criterion_status(c.status), _STATUS_TONES[c.status]),
            Cell(wording.clean(c.explanation)),
        )
        for c in tested.result.criteria
    )
    return Table(
        f"Criteria applied to {tested.name}",
        (Column("Criterion", wide=True), Column("Result"), Column("Why", wide=True)),
        rows,
    )


def criteria_section(tested: Sequence[TestedLevel]) -> Section:
    subsections = tuple(
        Section(
            f"criteria-{t.name}",
            f"{t.name} — {wording.category_name(t.result.category)} "
            f"({t.result.interpretation.value})",
            (
                Prose((wording.clean(t.result.summary),)),
                _level_fields(t),
                *((_criteria_table(t),) if t.result.criteria else ()),
            ),
            tone=_mark_tone(t),
        )
        for t in tested
    )
    return Section(
        "criteria",
        "Basis of interpretation, by level",
        (Prose(("Each criterion of the rule set, whether it was met, and the values used.",)),),
        subsections,
    )
