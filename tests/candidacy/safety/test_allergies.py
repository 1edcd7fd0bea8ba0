"""Allergies that change the procedure."""

from __future__ import annotations

from plugin.candidacy import SafetyKind
from tests.candidacy.chart_builder import allergy, assess, concept, good_lumbar_chart


def test_a_contrast_allergy_names_criticality_and_reactions() -> None:
    chart = [
        *good_lumbar_chart(),
        allergy("a1", snomed="293637006", criticality="high", reaction="Urticaria"),
    ]
    item = next(i for i in assess(chart).safety if i.id == "allergy-contrast")
    assert (item.kind, item.severity.value) == (SafetyKind.ALLERGY, "action")
    assert item.explanation == (
        "Allergy to contrast media (AllergyIntolerance/a1), criticality high; reaction: Urticaria."
    )
    assert item.evidence[0].value == "criticality high"


def test_a_reaction_substance_is_enough_to_match() -> None:
    resource = allergy("a2", text="Drug allergy")
    resource["reaction"] = [{"substance": concept("Iohexol"), "manifestation": [concept("Rash")]}]
    ids = {i.id for i in assess([*good_lumbar_chart(), resource]).safety}
    assert "allergy-contrast" in ids


def test_one_item_per_rule_with_every_allergy_behind_it() -> None:
    chart = [
        *good_lumbar_chart(),
        allergy("a1", text="Penicillin"),
        allergy("a2", text="Sulfa drugs"),
        allergy("a3", text="Peanuts"),
    ]
    item = next(i for i in assess(chart).safety if i.id == "allergy-other-antibiotic")
    assert [e.reference for e in item.evidence] == [
        "AllergyIntolerance/a1",
        "AllergyIntolerance/a2",
    ]


def test_reactions_of_the_wrong_type_read_as_absent() -> None:
    resource = allergy("a3", snomed="293637006")
    resource["reaction"] = {"substance": concept("Iohexol")}
    with_manifestation = allergy("a4", snomed="293637006")
    with_manifestation["reaction"] = [{"manifestation": 5}]
    item = next(
        i
        for i in assess([*good_lumbar_chart(), resource, with_manifestation]).safety
        if i.id == "allergy-contrast"
    )
    assert "reaction:" not in item.explanation


def test_an_allergy_coded_with_an_unlisted_snomed_code_is_matched_by_its_words() -> None:
    # SNOMED CT 385420005 "Contrast media" (the substance) is not the policy's 293637006.
    resource = allergy("a1")
    resource["code"] = {
        "coding": [
            {"system": "http://snomed.info/sct", "code": "385420005", "display": "Contrast media"}
        ]
    }
    ids = {i.id for i in assess([*good_lumbar_chart(), resource]).safety}
    assert "allergy-contrast" in ids
