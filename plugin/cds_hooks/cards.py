"""Cards for a discography order (CDS Hooks 2.0 §Card Attributes), pure.

One card per study in focus: the drafts for one region and levels (the injection and the imaging
codes of one discography, CPT 62290 and 72295) share a card. `info` for a candidate, `warning`
when the patient needs review or a safety item needs action, `critical` when not a candidate or
a safety item is a contraindication. Each card has a real uuid4 (feedback names it), a summary
under 140 characters, Markdown detail naming the draft orders, its source, override reasons on
warning and critical cards, a SMART link that opens the app on this patient with `appContext`
naming the (first) draft order, and — when a test must be ordered first — suggestions to order
it with `selectionBehavior` "any".
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from plugin.candidacy.assessment import Assessment, Outcome
from plugin.candidacy.policy import Severity
from plugin.cds_hooks.app_context import AppContext, app_context_text
from plugin.cds_hooks.card_detail import candidacy_detail, markdown_text
from plugin.cds_hooks.card_summary import candidacy_summary, fitted
from plugin.cds_hooks.draft_orders import draft_reference
from plugin.cds_hooks.hook_request import HookRequest
from plugin.cds_hooks.override_reasons import override_reason_codings
from plugin.cds_hooks.suggestions import SELECTION_BEHAVIOR, order_suggestions
from plugin.errors import Problem
from plugin.terminology import PRODUCT_CODE_SYSTEMS

__all__ = [
    "CardSetting",
    "candidacy_card",
    "indicator_of",
    "order_problem_card",
    "subject_problem_card",
]

NewUuid = Callable[[], str]


def _uuid4() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True, slots=True)
class CardSetting:
    """What a card needs beyond the assessment: the call, our service id, the app's launch URL."""

    call: HookRequest
    service_id: str
    launch_url: str  # the SMART app's launch URL: {public_url}/launch


def indicator_of(assessment: Assessment) -> str:
    severities = {item.severity for item in assessment.safety}
    if assessment.outcome is Outcome.NOT_CANDIDATE or Severity.CONTRAINDICATION in severities:
        return "critical"
    if assessment.outcome is Outcome.NEEDS_REVIEW or Severity.ACTION in severities:
        return "warning"
    return "info"


def _source(label: str) -> dict[str, Any]:
    discography = PRODUCT_CODE_SYSTEMS["discography"]
    return {
        "label": label,
        "topic": {
            "system": discography.url,
            "code": "provocative-discography",
            "display": discography.display("provocative-discography"),
        },
    }


def _app_link(setting: CardSetting, draft: Mapping[str, Any]) -> dict[str, Any]:
    context = AppContext(
        service=setting.service_id,
        hook=setting.call.hook.value,
        hook_instance=setting.call.hook_instance,
        draft_order=draft_reference(draft),
    )
    return {
        "label": "Review candidacy and give attestations in the discography app",
        "url": setting.launch_url,
        "type": "smart",
        "appContext": app_context_text(context),
    }


def candidacy_card(
    assessment: Assessment,
    drafts: Sequence[Mapping[str, Any]],
    setting: CardSetting,
    *,
    new_uuid: NewUuid = _uuid4,
) -> dict[str, Any]:
    """The card of one assessment, covering the draft orders `drafts` (at least one)."""
    indicator = indicator_of(assessment)
    policy = assessment.policy
    references = [r for r in map(draft_reference, drafts) if r is not None]
    card: dict[str, Any] = {
        "uuid": new_uuid(),
        "summary": candidacy_summary(assessment),
        "indicator": indicator,
        "detail": candidacy_detail(assessment, ", ".join(references) or None),
        "source": _source(fitted(f"Discography candidacy ({policy.id} {policy.version})", 100)),
    }
    suggestions = order_suggestions(assessment, setting.call.context, new_uuid=new_uuid)
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = SELECTION_BEHAVIOR
    if indicator != "info":
        card["overrideReasons"] = override_reason_codings()
    card["links"] = [_app_link(setting, drafts[0])]
    return card


def order_problem_card(
    problems: list[Problem],
    draft: Mapping[str, Any],
    setting: CardSetting,
    *,
    new_uuid: NewUuid = _uuid4,
) -> dict[str, Any]:
    """A draft discography order that cannot be assessed as written (its disc levels contradict
    its code's region): the clinician is told what to correct rather than left with nothing."""
    card = _not_assessed_card(
        problems,
        draft,
        "Correct the order's code or body sites; the assessment runs again on signing.",
        new_uuid,
    )
    card["links"] = [_app_link(setting, draft)]
    return card


def subject_problem_card(
    problem: Problem, draft: Mapping[str, Any], *, new_uuid: NewUuid = _uuid4
) -> dict[str, Any]:
    """A draft discography order that is not (or not recognisably) for the patient whose chart
    is open (`draft_subject`): it is not assessed against this chart and nothing is recorded on
    it. No app link: the app would open on this patient for an order that is not theirs."""
    return _not_assessed_card(
        [problem],
        draft,
        "Only orders for the patient whose chart is open are assessed, against that "
        "patient's chart; no assessment is recorded on this order. Check which patient "
        "the order is for.",
        new_uuid,
    )


def _not_assessed_card(
    problems: list[Problem], draft: Mapping[str, Any], advice: str, new_uuid: NewUuid
) -> dict[str, Any]:
    reference = draft_reference(draft) or "the draft discography order"
    lines = [f"{markdown_text(reference)} cannot be assessed as written:", ""]
    lines += [f"- {markdown_text(str(problem))}" for problem in problems]
    lines += ["", markdown_text(advice)]
    return {
        "uuid": new_uuid(),
        "summary": fitted(f"Discography order cannot be assessed: {problems[0].message}"),
        "indicator": "warning",
        "detail": "\n".join(lines),
        "source": _source("Discography candidacy"),
        "overrideReasons": override_reason_codings(),
    }
