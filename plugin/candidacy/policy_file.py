"""Loading a candidacy policy file: the shipped default, or a site's replacement.

Validation has two layers. The schema (`plugin.candidacy.policy`) checks each field; then the
cross-checks here check what one field says about another — every id a criterion, requirement
or hold cites exists, every LOINC/SNOMED/CPT code is listed in mappings/standard-codes.json or
carries a cited source, every unverified citation is flagged for review. Every problem names
its field (``criteria[2].attestation``) and its rule, all at once.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from plugin.candidacy.policy import (
    AttestationCriterion,
    ConservativeCareCriterion,
    NoActiveConditionCriterion,
    Policy,
    RecentImagingCriterion,
)
from plugin.candidacy.value_sets import ValueSet
from plugin.data_files import read_json_file
from plugin.errors import InputProblemError, Problem, RuleSetInvalidError
from plugin.resources import mappings_dir

__all__ = [
    "DEFAULT_POLICY_ID",
    "MEDICATION_CARE",
    "PolicyInvalidError",
    "configured_policy",
    "default_policy",
    "load_policy",
    "parse_policy",
    "policy_path",
]

DEFAULT_POLICY_ID = "discography-referral"
#: The care-kind id that stands for the conservative-care drug classes in `required`.
MEDICATION_CARE = "medication"


class PolicyInvalidError(RuleSetInvalidError):
    """A candidacy policy file fails validation; `problems` names every field at fault."""

    def __init__(self, problems: list[Problem]) -> None:
        InputProblemError.__init__(self, problems, "candidacy policy")


def policy_path(policy_id: str = DEFAULT_POLICY_ID) -> Path:
    return mappings_dir() / "candidacy" / f"{policy_id}.json"


@cache
def default_policy() -> Policy:
    """The shipped policy, loaded and validated once per process."""
    return load_policy(policy_path())


@cache
def configured_policy(path: Path | None) -> Policy:
    """The site's policy file (`candidacy_policy_file`), else the shipped policy: one referral
    rule for the SMART app and the CDS services, read once per process."""
    return default_policy() if path is None else load_policy(path)


def load_policy(path: Path | str) -> Policy:
    """Read and validate a policy file. An unreadable or non-JSON file is one problem naming
    the file; otherwise every broken rule is listed with its field."""
    return parse_policy(read_json_file(path, what="policy file", error=PolicyInvalidError))


def parse_policy(data: Any) -> Policy:
    """Validate a decoded policy document; `PolicyInvalidError` lists every problem."""
    if not isinstance(data, dict):
        raise PolicyInvalidError([Problem("", "type", "a policy must be a JSON object")])
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyInvalidError(_schema_problems(exc)) from None
    problems = list(_cross_problems(policy))
    if problems:
        raise PolicyInvalidError(list(dict.fromkeys(problems)))
    return policy


# --- schema problems ----------------------------------------------------------------------

_MESSAGES = {
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "tuple_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "string_too_short": "must not be empty",
    "too_short": "must not be empty",
}


def _schema_problems(exc: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        loc = list(error["loc"])
        kind = error["type"]
        # A discriminated union puts the chosen method in the location; it is not a field.
        if len(loc) >= 3 and loc[0] == "criteria" and loc[2] in _CRITERION_METHODS:
            del loc[2]
        if kind in ("union_tag_not_found", "union_tag_invalid"):
            loc.append("method")
        field = "".join(
            f"[{part}]" if isinstance(part, int) else (f".{part}" if i else str(part))
            for i, part in enumerate(loc)
        )
        ctx = error.get("ctx") or {}
        if kind in ("greater_than_equal", "less_than_equal"):
            bound = f"at least {ctx.get('ge')}" if "ge" in ctx else f"at most {ctx.get('le')}"
            message, kind = f"must be {bound}", "range"
        elif kind in ("enum", "literal_error"):
            message = f"must be one of {ctx.get('expected', '')}"
        elif kind in ("union_tag_not_found", "union_tag_invalid"):
            message = f"must be one of {', '.join(map(repr, sorted(_CRITERION_METHODS)))}"
        elif kind == "string_pattern_mismatch":
            message = f"is not in the expected form (pattern {ctx.get('pattern')})"
        elif kind == "value_error":
            message = str(ctx.get("error", error["msg"]))
        else:
            message = _MESSAGES.get(kind, error["msg"])
        got = error.get("input")
        if kind not in ("missing", "extra_forbidden", "value_error") and isinstance(
            got, str | int | float | bool
        ):
            message += f" (got {json.dumps(got)})"
        problems.append(Problem(field, kind, message))
    return list(dict.fromkeys(problems))


_CRITERION_METHODS = frozenset(
    {
        "condition-duration",
        "conservative-care",
        "recent-imaging",
        "attestation",
        "no-active-condition",
        "no-severe-condition",
    }
)


# --- cross-checks -------------------------------------------------------------------------


def _cross_problems(policy: Policy) -> Iterator[Problem]:
    citations = {c.id for c in policy.citations}
    attestations = {a.id for a in policy.attestations}
    drug_classes = {c.id for c in policy.drug_classes}
    labs = {lab.id for lab in policy.labs}

    for name, ids in (
        ("attestations", [a.id for a in policy.attestations]),
        ("criteria", [c.id for c in policy.criteria]),
        ("drug_classes", [c.id for c in policy.drug_classes]),
        ("labs", [lab.id for lab in policy.labs]),
        ("lab_requirements", [r.id for r in policy.lab_requirements]),
        ("allergies", [a.id for a in policy.allergies]),
        ("payer_notes", [n.id for n in policy.payer_notes]),
        ("citations", [c.id for c in policy.citations]),
    ):
        for duplicate in sorted(i for i, n in Counter(ids).items() if n > 1):
            yield Problem(name, "duplicate-id", f"id {duplicate!r} is given more than once")

    for index, criterion in enumerate(policy.criteria):
        where = f"criteria[{index}]"
        yield from _unknown(f"{where}.citations", criterion.citations, citations, "citation")
        if (
            isinstance(criterion, AttestationCriterion | RecentImagingCriterion)
            and criterion.attestation is not None
        ):
            yield from _unknown(
                f"{where}.attestation", (criterion.attestation,), attestations, "attestation"
            )
        if isinstance(criterion, ConservativeCareCriterion):
            yield from _unknown(
                f"{where}.medication_classes",
                criterion.medication_classes,
                drug_classes,
                "drug class",
            )
            kinds = {k.id for k in criterion.care_kinds} | {MEDICATION_CARE}
            for r_index, requirement in enumerate(criterion.required):
                yield from _unknown(
                    f"{where}.required[{r_index}].any_of", requirement.any_of, kinds, "care kind"
                )
        if isinstance(criterion, NoActiveConditionCriterion):
            yield from _unknown(
                f"{where}.recent_drug_classes",
                criterion.recent_drug_classes,
                drug_classes,
                "drug class",
            )
    for index, drug_class in enumerate(policy.drug_classes):
        for i_index, ingredient in enumerate(drug_class.ingredients):
            hold = ingredient.hold
            where = f"drug_classes[{index}].ingredients[{i_index}].hold"
            if hold is None:
                continue
            if hold.check_lab is not None:
                yield from _unknown(f"{where}.check_lab", (hold.check_lab,), labs, "lab")
            if hold.range_days is not None and not (
                hold.range_days[0] <= hold.days <= hold.range_days[1]
            ):
                yield Problem(
                    f"{where}.days",
                    "outside-range",
                    f"{hold.days} days is outside the range quoted "
                    f"({hold.range_days[0]}–{hold.range_days[1]} days)",
                )
    for index, lab_requirement in enumerate(policy.lab_requirements):
        where = f"lab_requirements[{index}]"
        yield from _unknown(f"{where}.any_of", lab_requirement.any_of, labs, "lab")
        if lab_requirement.suggested_order.governed_key != "loinc":
            yield Problem(
                f"{where}.suggested_order.system",
                "not-loinc",
                "a lab to order must be a LOINC code",
            )
    yield from _unknown(
        "clotting_risk.drug_classes", policy.clotting_risk.drug_classes, drug_classes, "drug class"
    )
    yield from _unknown(
        "clotting_risk.labs_needing_action", policy.clotting_risk.labs_needing_action, labs, "lab"
    )
    for index, lab in enumerate(policy.labs):
        if not lab.units:
            yield Problem(f"labs[{index}].units", "min-items", "at least one unit is required")
        for unit, factor in lab.units.items():
            if factor <= 0:
                yield Problem(
                    f"labs[{index}].units.{unit or '(none)'}", "range", "a factor must be above 0"
                )
    cbp = policy.pregnancy.child_bearing_potential
    if cbp.min_age_years > cbp.max_age_years:
        yield Problem(
            "pregnancy.child_bearing_potential.min_age_years",
            "range",
            "must not be above max_age_years",
        )
    for index, note in enumerate(policy.payer_notes):
        if note.citation is not None:
            yield from _unknown(
                f"payer_notes[{index}].citation", (note.citation,), citations, "citation"
            )
    yield from _outcome_problems(policy)
    yield from _code_problems(policy, citations)
    yield from _review_problems(policy, citations)


def _unknown(field: str, ids: Iterable[str], known: set[str], what: str) -> Iterator[Problem]:
    for value in ids:
        if value not in known:
            listed = ", ".join(sorted(known)) or "none"
            yield Problem(
                field,
                f"unknown-{what.replace(' ', '-')}",
                f"names unknown {what} {value!r} (known: {listed})",
            )


def _outcome_problems(policy: Policy) -> Iterator[Problem]:
    rules = policy.outcome
    for kind in ("criterion_status", "safety_severity"):
        both = set(getattr(rules.not_candidate, kind)) & set(getattr(rules.needs_review, kind))
        for value in sorted(both):
            yield Problem(
                f"outcome.needs_review.{kind}",
                "overlap",
                f"{value!r} is already a reason for not-candidate",
            )
    if "not-met" not in rules.not_candidate.criterion_status + rules.needs_review.criterion_status:
        yield Problem(
            "outcome",
            "not-met-ignored",
            "a criterion that is not met must lead to not-candidate or needs-review",
        )
    if (
        "contraindication"
        not in rules.not_candidate.safety_severity + rules.needs_review.safety_severity
    ):
        yield Problem(
            "outcome",
            "contraindication-ignored",
            "a contraindication must lead to not-candidate or needs-review",
        )


def _code_problems(policy: Policy, citations: set[str]) -> Iterator[Problem]:
    """Every governed code is listed in standard-codes.json or cites a source (clinical.md §5:
    "only these, or others with a cited source in mappings/")."""
    for field, value_set in _value_sets(policy, ""):
        for index, ref in enumerate(value_set.codes):
            where = f"{field}.codes[{index}]"
            if ref.source is not None and ref.source not in citations:
                yield Problem(
                    f"{where}.source", "unknown-citation", f"names unknown citation {ref.source!r}"
                )
            elif ref.source is None and not ref.listed():
                yield Problem(
                    f"{where}.code",
                    "code-not-listed",
                    f"{ref.system} code {ref.code!r} is not in mappings/standard-codes.json; "
                    'cite its source ("source": a citation id) or remove it',
                )
    for index, requirement in enumerate(policy.lab_requirements):
        ref = requirement.suggested_order
        if ref.source is None and not ref.listed():
            yield Problem(
                f"lab_requirements[{index}].suggested_order.code",
                "code-not-listed",
                f"LOINC {ref.code!r} is not in mappings/standard-codes.json",
            )
    if (
        policy.pregnancy.suggested_order.source is None
        and not policy.pregnancy.suggested_order.listed()
    ):
        yield Problem(
            "pregnancy.suggested_order.code",
            "code-not-listed",
            "the code is not in mappings/standard-codes.json",
        )


def _value_sets(model: Any, path: str) -> Iterator[tuple[str, ValueSet]]:
    """Every ValueSet in the policy with its dotted path."""
    if isinstance(model, ValueSet):
        yield path, model
        return
    if isinstance(model, BaseModel):
        for name in type(model).model_fields:
            yield from _value_sets(getattr(model, name), f"{path}.{name}" if path else name)
    elif isinstance(model, tuple):
        for index, item in enumerate(model):
            yield from _value_sets(item, f"{path}[{index}]")
    elif isinstance(model, dict):
        for key, item in model.items():
            yield from _value_sets(item, f"{path}.{key}")


def _review_problems(policy: Policy, citations: set[str]) -> Iterator[Problem]:
    reviewed = set()
    for index, note in enumerate(policy.review_notes):
        if note.citation is not None:
            reviewed.add(note.citation)
            if note.citation not in citations:
                yield Problem(
                    f"review_notes[{index}].citation",
                    "unknown-citation",
                    f"names unknown citation {note.citation!r}",
                )
    for index, citation in enumerate(policy.citations):
        if not citation.verified and citation.id not in reviewed:
            # clinical.md: an unverified source must be flagged for clinical review.
            yield Problem(
                f"citations[{index}]",
                "unverified-without-review",
                f"unverified citation {citation.id!r} needs a review note citing it",
            )
