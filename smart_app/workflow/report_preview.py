"""The report of a draft exactly as signing would render it — same validation, rule sets,
candidacy citation and warnings (`plugin.writeback.freeze_study` renders from the same inputs)
— with the draft's last save as its time of issue. Signing stamps the signing time instead;
nothing else differs.

Pure: the draft's study, its time and the citation come in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from plugin.fhir_mapping.readiness import require_reportable
from plugin.interpretation.engine import interpret_study
from plugin.interpretation.rule_set import RuleSetLibrary
from plugin.report.render import render_report
from plugin.report.rendered import RenderedReport
from plugin.study.validation import parse_study

__all__ = ["preview_issued", "preview_report"]


def preview_issued(updated_at: float) -> datetime:
    """The preview's time of issue: the draft's last save, to the second (as signing does)."""
    return datetime.fromtimestamp(updated_at, UTC).replace(microsecond=0)


def preview_report(
    study_json: Mapping[str, Any],
    *,
    issued: datetime,
    candidacy_summary: str | None,
    library: RuleSetLibrary,
) -> RenderedReport:
    """Raises `StudyInvalidError` / `InputProblemError` listing every problem when the study
    cannot yet be reported."""
    validated = parse_study(study_json)
    interpretation = interpret_study(validated.study, library)
    require_reportable(validated.study, interpretation)
    return render_report(
        validated.study,
        interpretation,
        issued=issued,
        candidacy_summary=candidacy_summary,
        warnings=validated.warnings,
    )
