"""What the criteria share: the records of a type matching a value set, found through an index
built once per assessment, must be exactly those the value set matches record by record."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from plugin.candidacy import Order, chart_from_resources, default_policy
from plugin.candidacy.context import AssessmentContext
from plugin.candidacy.value_sets import ValueSet
from plugin.study.levels import Region
from tests.candidacy.chart_builder import LOINC, SNOMED, TODAY, patient

POLICY = default_policy()
#: Every value set the engine matches Observations against, and a few it matches others with.
VALUE_SETS: list[ValueSet] = [
    *(lab.value_set for lab in POLICY.labs),
    POLICY.pregnancy.status,
    POLICY.pregnancy.tests,
    *(c.pain_scores for c in POLICY.criteria if hasattr(c, "pain_scores")),
    POLICY.clotting_risk.conditions,
    *(rule.value_set for rule in POLICY.allergies),
]

_CODINGS = st.sampled_from(
    [
        {"system": LOINC, "code": "98979-8"},
        {"system": LOINC, "code": "2160-0", "display": "Creatinine"},
        {"system": LOINC, "code": "82810-3"},
        {"system": LOINC, "code": "1234-5", "display": "eGFR panel"},
        {"system": "urn:local", "code": "egfr", "display": "eGFR"},
        {"system": "urn:local", "code": "hgb"},
        {"system": SNOMED, "code": "64779008"},
        {"code": "98979-8"},
        {"system": LOINC},
        "not a coding",
    ]
)
_TEXTS = st.sampled_from(
    [None, "eGFR (CKD-EPI)", "Serum creatinine", "Hemoglobin", "Pregnancy test, urine", "INR"]
)
_CONCEPTS = st.builds(
    lambda codings, text: {
        **({"coding": codings} if codings else {}),
        **({"text": text} if text else {}),
    },
    st.lists(_CODINGS, max_size=3),
    _TEXTS,
)
_OBSERVATIONS = st.lists(
    st.builds(
        lambda concept, listed: {
            "resourceType": "Observation",
            "status": "final",
            "subject": {"reference": "Patient/p1"},
            "code": [concept] if listed else concept,
        },
        _CONCEPTS,
        st.booleans(),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(_OBSERVATIONS)
def test_indexed_matching_equals_matching_each_record(observations: list[dict[str, Any]]) -> None:
    resources = [patient(), *({**o, "id": f"o{i}"} for i, o in enumerate(observations))]
    chart = chart_from_resources(resources)
    context = AssessmentContext(chart, Order(), POLICY, frozenset(), TODAY)
    for value_set in VALUE_SETS:
        expected = [r for r in chart.of_type("Observation") if context.matches(value_set, r)]
        assert context.matching("Observation", value_set) == expected


def test_concepts_and_body_sites_of_the_wrong_type_read_as_absent() -> None:
    condition = {
        "resourceType": "Condition",
        "id": "c1",
        "code": {"coding": 5, "text": "Low back pain"},
        "bodySite": 5,
    }
    lab = {"resourceType": "Observation", "id": "o1", "code": {"coding": {"code": "98979-8"}}}
    chart = chart_from_resources([patient(), condition, lab])
    context = AssessmentContext(chart, Order(), POLICY, frozenset(), TODAY)
    assert context.texts_of(condition) == ["Low back pain"]
    assert context.regions_of(condition) == frozenset({Region.LUMBAR})  # from its words
    assert context.matching("Observation", POLICY.labs[0].value_set) == []


def test_a_concept_that_is_not_plain_json_is_still_read() -> None:
    # The index reads each distinct concept once, keyed by its JSON; a concept JSON cannot
    # carry (here an integer beyond 64 bits, as a decoder may give) is read all the same.
    egfr = {"system": LOINC, "code": "98979-8"}
    odd = {"coding": [egfr], "extension": [{"url": "urn:x", "valueInteger": 10**40}]}
    plain = {"coding": [egfr]}
    resources = [
        patient(),
        *(
            {"resourceType": "Observation", "id": f"o{i}", "status": "final", "code": code}
            for i, code in enumerate([odd, plain, odd])
        ),
    ]
    chart = chart_from_resources(resources)
    context = AssessmentContext(chart, Order(), POLICY, frozenset(), TODAY)
    found = context.matching("Observation", POLICY.labs[0].value_set)
    assert [r["id"] for r in found] == ["o0", "o1", "o2"]


def _context() -> AssessmentContext:
    return AssessmentContext(chart_from_resources([patient()]), Order(), POLICY, frozenset(), TODAY)


def test_each_record_has_its_own_words_however_often_they_are_read() -> None:
    # Words are read once per record: a record made after another is gone (it may take the
    # gone one's id) still has its own, and changing the list returned changes nothing.
    context = _context()
    for n in range(20):
        record = {"resourceType": "Condition", "code": {"text": f"Pain {n}"}}
        texts = context.texts_of(record)
        assert texts == [f"Pain {n}"]
        texts.append("lumbar")
        assert context.texts_of(record) == [f"Pain {n}"]
        del record, texts
    assert context.regions_named(["Chronic low back pain"]) == frozenset({Region.LUMBAR})
    assert context.regions_named(["Neck pain, cervical"]) == frozenset({Region.CERVICAL})
    assert context.regions_named(["Knee pain"]) == frozenset()


def test_each_value_set_is_tried_against_each_wording() -> None:
    context = _context()
    for n in range(20):
        terms = ValueSet(text=(f"term{n}",))
        assert context.in_words(terms, [f"a term{n} here"])
        assert not context.in_words(terms, [f"a term{n + 1} here"])
        del terms
