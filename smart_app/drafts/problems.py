"""The problems of a draft study, found on every save so the page can show them as the user
types: everything that keeps the study from being signed (validation, reportability), plus a
study that names another patient than the draft's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugin.errors import InputProblemError, Problem
from plugin.fhir_mapping.readiness import require_reportable
from plugin.interpretation.engine import interpret_study
from plugin.interpretation.rule_set import RuleSetLibrary
from plugin.study.validation import parse_study
from smart_app.drafts.owner import DraftOwner

__all__ = ["draft_problems", "owned_study"]


def owned_study(study: Mapping[str, Any], owner: DraftOwner, study_id: str) -> dict[str, Any]:
    """The study as stored: its `id` is the draft's study id (the identity of everything it
    writes to the chart), and its patient, when not given, the draft's patient."""
    stored = dict(study)
    stored["id"] = study_id
    stored.setdefault("patient", owner.patient_reference)
    return stored


def draft_problems(
    study: Mapping[str, Any], owner: DraftOwner, library: RuleSetLibrary
) -> tuple[Problem, ...]:
    """Every problem that would stop signing, each naming its field and rule."""
    problems: list[Problem] = []
    named = _patient_reference(study.get("patient"))
    ours = (owner.patient_reference, f"{owner.iss}/{owner.patient_reference}")
    if named is not None and named not in ours:
        problems.append(
            Problem(
                "patient",
                "draft-patient",
                "names another patient than the one this study was started for",
            )
        )
    try:
        validated = parse_study(study)
        interpretation = interpret_study(validated.study, library)
        require_reportable(validated.study, interpretation)
    except InputProblemError as error:
        problems.extend(error.problems)
    return tuple(problems)


def _patient_reference(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Mapping) and isinstance(value.get("reference"), str):
        return str(value["reference"]).strip()
    return None
