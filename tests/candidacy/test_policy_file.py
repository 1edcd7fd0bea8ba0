"""The policy file: the shipped default loads; a broken site file names every field at fault."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from plugin.candidacy.policy_file import (
    PolicyInvalidError,
    default_policy,
    load_policy,
    parse_policy,
    policy_path,
)
from plugin.errors import RuleSetInvalidError

SHIPPED: dict[str, Any] = json.loads(policy_path().read_text(encoding="utf-8"))


def problems_of(data: Any) -> set[tuple[str, str]]:
    with pytest.raises(PolicyInvalidError) as caught:
        parse_policy(data)
    return {(p.field, p.rule) for p in caught.value.problems}


def changed(**edits: Any) -> dict[str, Any]:
    data = copy.deepcopy(SHIPPED)
    for path, value in edits.items():
        target: Any = data
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        last = keys[-1]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return data


def test_the_shipped_policy_loads_with_its_identity() -> None:
    policy = default_policy()
    assert (policy.id, policy.version) == ("discography-referral", "1.3.0")
    assert [c.id for c in policy.criteria] == [
        "persistent-axial-pain",
        "failed-conservative-care",
        "imaging-inconclusive",
        "treatment-decision",
        "no-active-infection",
        "no-severe-stenosis",
    ]


def test_the_shipped_thresholds_are_those_of_clinical_md() -> None:
    policy = default_policy()
    by_id = {c.id: c for c in policy.criteria}
    assert by_id["persistent-axial-pain"].min_duration_months == 3  # type: ignore[union-attr]
    assert by_id["failed-conservative-care"].min_duration_months == 3  # type: ignore[union-attr]
    assert by_id["imaging-inconclusive"].max_age_months == 12  # type: ignore[union-attr]
    assert by_id["no-active-infection"].recent_drug_window_days == 14  # type: ignore[union-attr]
    limits = {
        lab.id: (lab.action_when.operator.value, lab.action_when.value)
        for lab in policy.labs
        if lab.action_when
    }
    assert limits == {"egfr": ("<", 30), "inr": (">", 1.5), "platelets": ("<", 100)}
    assert {r.id: r.max_age_days for r in policy.lab_requirements} == {
        "kidney-function": 30,
        "inr": 30,
        "platelets": 30,
    }
    holds = {
        i.name: (i.hold.days, i.hold.range_days)
        for c in policy.drug_classes
        for i in c.ingredients
        if i.hold is not None and i.name != "low molecular weight heparin"
    }
    assert holds == {
        "clopidogrel": (7, None),
        "prasugrel": (10, (7, 10)),
        "ticagrelor": (5, None),
        "warfarin": (5, None),
        "dabigatran": (5, (4, 5)),
        "rivaroxaban": (3, None),
        "apixaban": (3, None),
        "edoxaban": (3, None),
        "enoxaparin": (1, None),
        "dalteparin": (1, None),
        "tinzaparin": (1, None),
    }
    cbp = policy.pregnancy.child_bearing_potential
    assert (cbp.sexes, cbp.min_age_years, cbp.max_age_years) == (("female",), 12, 55)


def test_every_unverified_citation_is_flagged_for_review() -> None:
    policy = default_policy()
    flagged = {note.citation for note in policy.review_notes}
    unverified = {c.id for c in policy.citations if not c.verified}
    assert unverified == {"drug-hold-table", "lab-action-ranges", "cpt-pt-evaluation"}
    assert unverified <= flagged


def test_a_site_file_replaces_the_default(tmp_path: Path) -> None:
    site = changed(version="2.0.0")
    site["criteria"][1]["min_duration_months"] = 6
    path = tmp_path / "site.json"
    path.write_text(json.dumps(site), encoding="utf-8")
    policy = load_policy(path)
    assert policy.version == "2.0.0"
    assert policy.criteria[1].min_duration_months == 6  # type: ignore[union-attr]


def test_a_site_file_written_before_the_end_unknown_window_loads_with_the_shipped_one(
    tmp_path: Path,
) -> None:
    # Policy 1.0.0 had no end_unknown_recent_days: a site file written for it keeps loading.
    site = changed(version="1.0.0-site")
    del site["end_unknown_recent_days"]
    site["review_notes"] = [
        n for n in site["review_notes"] if n.get("subject") != "end_unknown_recent_days"
    ]
    path = tmp_path / "site.json"
    path.write_text(json.dumps(site), encoding="utf-8")
    assert load_policy(path).end_unknown_recent_days == 90 == SHIPPED["end_unknown_recent_days"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (changed(version="1.0"), ("version", "string_pattern_mismatch")),
        (changed(criteria__0__min_duration_months=0), ("criteria[0].min_duration_months", "range")),
        (changed(criteria__0__method="guess"), ("criteria[0].method", "union_tag_invalid")),
        (
            changed(criteria__3__attestation="nobody"),
            ("criteria[3].attestation", "unknown-attestation"),
        ),
        (
            changed(criteria__1__medication_classes=["nsaid", "aspirin"]),
            ("criteria[1].medication_classes", "unknown-drug-class"),
        ),
        (
            changed(lab_requirements__0__any_of=["egfr", "cystatin"]),
            ("lab_requirements[0].any_of", "unknown-lab"),
        ),
        (
            changed(labs__0__value_set={"codes": [{"system": "loinc", "code": "1234-5"}]}),
            ("labs[0].value_set.codes[0].code", "code-not-listed"),
        ),
        (
            changed(
                labs__0__value_set={
                    "codes": [{"system": "loinc", "code": "1234-5", "source": "nowhere"}]
                }
            ),
            ("labs[0].value_set.codes[0].source", "unknown-citation"),
        ),
        (
            changed(lab_requirements__0__suggested_order={"system": "snomed", "code": "293637006"}),
            ("lab_requirements[0].suggested_order.system", "not-loinc"),
        ),
        (
            changed(
                outcome={
                    "not_candidate": {"criterion_status": ["not-met"]},
                    "needs_review": {
                        "criterion_status": ["not-met", "unknown"],
                        "safety_severity": ["action", "contraindication"],
                    },
                }
            ),
            ("outcome.needs_review.criterion_status", "overlap"),
        ),
        (
            changed(pregnancy__child_bearing_potential={"min_age_years": 60, "max_age_years": 50}),
            ("pregnancy.child_bearing_potential.min_age_years", "range"),
        ),
        (changed(extra="x"), ("extra", "extra_forbidden")),
        (
            changed(attestations=[{"id": "a", "text": "x"}, {"id": "a", "text": "y"}]),
            ("attestations", "duplicate-id"),
        ),
    ],
)
def test_a_broken_policy_names_the_field_and_rule(data: Any, expected: tuple[str, str]) -> None:
    assert expected in problems_of(data)


def test_a_hold_outside_its_quoted_range_is_refused() -> None:
    data = copy.deepcopy(SHIPPED)
    prasugrel = data["drug_classes"][3]["ingredients"][1]
    prasugrel["hold"]["days"] = 12
    assert ("drug_classes[3].ingredients[1].hold.days", "outside-range") in problems_of(data)


def test_an_unverified_citation_without_review_note_is_refused() -> None:
    data = copy.deepcopy(SHIPPED)
    data["review_notes"] = [
        n for n in data["review_notes"] if n.get("citation") != "lab-action-ranges"
    ]
    assert ("citations[5]", "unverified-without-review") in problems_of(data)


def test_every_problem_is_reported_at_once() -> None:
    data = changed(version="x", title="")
    data["criteria"][0]["min_duration_months"] = -1
    assert {field for field, _ in problems_of(data)} >= {
        "version",
        "title",
        "criteria[0].min_duration_months",
    }


def test_unreadable_and_non_json_files_are_one_problem_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(PolicyInvalidError, match="cannot read policy file"):
        load_policy(missing)
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(PolicyInvalidError) as caught:
        load_policy(broken)
    assert caught.value.problems[0].rule == "json"
    assert str(broken) in caught.value.problems[0].message
    assert problems_of([1, 2]) == {("", "type")}


def test_policy_errors_are_rule_set_errors() -> None:
    # One exception tree: edges that handle rule-set files handle policy files the same way.
    assert issubclass(PolicyInvalidError, RuleSetInvalidError)
