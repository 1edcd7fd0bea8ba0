"""Value sets: codes by system, text terms only when no listed system codes the concept."""

from __future__ import annotations

import gc

import pytest
from pydantic import ValidationError

from plugin.candidacy import value_sets
from plugin.candidacy.policy import Policy
from plugin.candidacy.policy_file import default_policy
from plugin.candidacy.value_sets import (
    CodeRef,
    Match,
    ValueSet,
    Wording,
    listed_codes,
    normalized_text,
)

LOINC = "http://loinc.org"
EGFR = ValueSet.model_validate(
    {"codes": [{"system": "loinc", "code": "98979-8"}], "text": ["egfr", "disc disorder"]}
)


def test_a_listed_code_matches() -> None:
    assert EGFR.matches_concept({"coding": [{"system": LOINC, "code": "98979-8"}]})


def test_a_concept_with_a_code_the_policy_lists_elsewhere_is_not_matched_by_its_words() -> None:
    # A creatinine whose name mentions eGFR is still a creatinine.
    creatinine = {"coding": [{"system": LOINC, "code": "2160-0"}], "text": "Creatinine (for eGFR)"}
    assert EGFR.match(creatinine, frozenset({(LOINC, "2160-0")})) is None


def test_a_concept_coded_with_an_unlisted_code_falls_back_to_its_words() -> None:
    # A chart codes an eGFR with a LOINC code the policy does not list: its words still say so.
    concept = {"coding": [{"system": LOINC, "code": "33914-3", "display": "eGFR MDRD"}]}
    assert EGFR.match(concept) is Match.WORDS_UNLISTED_CODE
    assert EGFR.match({"text": "eGFR"}) is Match.WORDS
    assert EGFR.match({"coding": [{"system": LOINC, "code": "98979-8"}]}) is Match.CODE


@pytest.mark.parametrize(
    ("text", "wording"),
    [
        ("Non-infectious uveitis", Wording.NEGATED),
        ("Infection ruled out", Wording.NEGATED),
        ("No evidence of infection", Wording.NEGATED),
        ("Aseptic (non-infective) discitis", Wording.HEDGED),
        ("Pneumonia, not resolved", Wording.HEDGED),
        ("Infected cyst", Wording.AFFIRMED),
        ("Uveitis", Wording.NONE),
    ],
)
def test_negation_is_read_in_the_words(text: str, wording: Wording) -> None:
    infection = ValueSet(text=("infection", "infectious", "infected", "discitis", "pneumonia"))
    assert infection.wording(text) is wording


def test_text_is_read_when_only_other_systems_code_the_concept() -> None:
    assert EGFR.matches_concept(
        {"coding": [{"system": "urn:oid:1.2.3", "code": "X"}], "text": "eGFR"}
    )
    assert EGFR.matches_concept({"coding": [{"system": "urn:oid:1.2.3", "display": "EGFR result"}]})


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("Lumbar disk disorders", True),  # "disk" spelling, plural
        ("Disc-disorder, lumbar", True),  # punctuation as spaces
        ("Egfrx", False),  # whole words only
        ("", False),
    ],
)
def test_terms_match_whole_words_case_and_spelling_insensitive(text: str, matches: bool) -> None:
    assert EGFR.matches_concept({"text": text}) is matches


def test_normalized_text_pads_and_lowercases() -> None:
    assert normalized_text("Low-Back  PAIN/Disk") == " low back pain disc "


def test_code_systems_are_keys_of_standard_codes_or_urls() -> None:
    assert CodeRef(system="snomed", code="293637006").url == "http://snomed.info/sct"
    assert CodeRef(system="urn:oid:1.2.3", code="9").url == "urn:oid:1.2.3"
    with pytest.raises(ValidationError, match="unknown system 'rxnorm'"):
        CodeRef(system="rxnorm", code="1")


def test_listed_means_present_in_standard_codes() -> None:
    assert CodeRef(system="loinc", code="98979-8").listed()
    assert not CodeRef(system="loinc", code="1234-5").listed()
    assert CodeRef(system="urn:oid:1.2.3", code="anything").listed()  # not governed


@pytest.mark.parametrize(
    "concept",
    [
        {"coding": 5, "text": "eGFR"},
        {"coding": {"system": LOINC, "code": "98979-8"}, "text": "eGFR"},
        {"coding": [5, "x"], "text": "eGFR"},
        {"coding": [{"system": [LOINC], "code": "2160-0"}], "text": "eGFR"},
        {"coding": [{"system": {"x": 1}, "code": "2160-0"}], "text": "eGFR"},
    ],
)
def test_codings_of_the_wrong_type_read_as_absent(concept: dict[str, object]) -> None:
    # No readable coding in a listed system: the words decide, as for a concept without one.
    assert EGFR.matches_concept(concept)
    assert EGFR.matched_code(concept) is None


def test_a_code_of_the_wrong_type_matches_nothing() -> None:
    concept = {"coding": [{"system": LOINC, "code": ["98979-8"]}]}
    assert not EGFR.matches_concept(concept)
    assert EGFR.matched_code(concept) is None
    assert not EGFR.has_code(LOINC, {"code": "98979-8"})


def _listing(policy: Policy, code: str) -> Policy:
    """A copy of the policy whose first lab also lists urn:local|`code`."""
    lab = policy.labs[0]
    value_set = ValueSet(
        codes=(*lab.value_set.codes, CodeRef(system="urn:local", code=code)),
        text=lab.value_set.text,
    )
    changed = lab.model_copy(update={"value_set": value_set})
    return policy.model_copy(update={"labs": (changed, *policy.labs[1:])})


def test_listed_codes_are_read_once_per_policy_object() -> None:
    policy = default_policy()
    assert listed_codes(policy) is listed_codes(policy)
    assert (LOINC, "98979-8") in listed_codes(policy)


def test_each_policy_object_has_its_own_listed_codes() -> None:
    # Read once per policy object: a changed copy is another object, with its own codes —
    # also when it takes the place (the id) of a copy that is gone.
    policy = default_policy()
    for n in range(20):
        copy = _listing(policy, f"lab-{n}")
        assert ("urn:local", f"lab-{n}") in listed_codes(copy)
        assert ("urn:local", f"lab-{n - 1}") not in listed_codes(copy)
        del copy
    assert not any(system == "urn:local" for system, _ in listed_codes(policy))


def test_listed_codes_are_forgotten_with_their_policy() -> None:
    # The cache outlives a call only as long as its policy: site policies loaded and dropped
    # leave nothing behind.
    copy = _listing(default_policy(), "gone")
    key = id(copy)
    listed_codes(copy)
    assert key in value_sets._LISTED
    del copy
    gc.collect()
    assert key not in value_sets._LISTED
