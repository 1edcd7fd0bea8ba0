"""Episodes of conservative care: each record's kind of care is found through the chart's index
of concepts, and must be the first kind whose value set matches the record by itself."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from plugin.candidacy import Order, chart_from_resources, default_policy
from plugin.candidacy.care_episodes import care_episodes
from plugin.candidacy.context import AssessmentContext
from plugin.candidacy.policy import ConservativeCareCriterion
from tests.candidacy.chart_builder import CPT, TODAY, ago, patient

POLICY = default_policy()
CRITERION = next(c for c in POLICY.criteria if isinstance(c, ConservativeCareCriterion))

_CODINGS = st.sampled_from(
    [
        {"system": CPT, "code": "97110"},  # physical therapy
        {"system": CPT, "code": "98940", "display": "Chiropractic manipulation"},
        {"system": CPT, "code": "72295", "display": "Physical therapy evaluation"},  # not listed
        {"system": "urn:local", "code": "pt", "display": "Spinal manipulation"},
        {"system": "http://loinc.org", "code": "98979-8"},  # listed by the policy for eGFR
        {"code": "97110"},
        "not a coding",
    ]
)
_TEXTS = st.sampled_from(
    [None, "Therapeutic exercise", "Chiropractor visit", "Epidural steroid injection", "Visit"]
)
_CONCEPTS = st.builds(
    lambda codings, text: {
        **({"coding": codings} if codings else {}),
        **({"text": text} if text else {}),
    },
    st.lists(_CODINGS, max_size=3),
    _TEXTS,
)


def _record(kind: str, concept: dict[str, Any], listed: bool) -> dict[str, Any]:
    """A dated record of care given, its concept as one object or in a list."""
    record: dict[str, Any] = {"resourceType": kind, "subject": {"reference": "Patient/p1"}}
    if kind == "Encounter":
        return record | {"status": "finished", "type": [concept], "period": {"start": ago(30)}}
    when = "performedDateTime" if kind == "Procedure" else "occurrenceDateTime"
    return record | {"status": "completed", "code": [concept] if listed else concept, when: ago(30)}


_RECORDS = st.lists(
    st.builds(
        _record,
        st.sampled_from(["Procedure", "Encounter", "ServiceRequest"]),
        _CONCEPTS,
        st.booleans(),
    ),
    max_size=20,
)


@settings(max_examples=150, deadline=None)
@given(_RECORDS)
def test_each_record_is_the_first_kind_of_care_it_matches(records: list[dict[str, Any]]) -> None:
    resources = [patient(), *({**r, "id": f"r{i}"} for i, r in enumerate(records))]
    chart = chart_from_resources(resources)
    context = AssessmentContext(chart, Order(), POLICY, frozenset(), TODAY)
    found = {id(e.resource): e.kind for e in care_episodes(context, CRITERION)}
    for resource in chart.of_type("Procedure", "Encounter", "ServiceRequest"):
        expected = next(
            (k.id for k in CRITERION.care_kinds if context.matches(k.value_set, resource)), None
        )
        assert found.get(id(resource)) == expected


def test_charts_assessed_one_after_another_have_their_own_care() -> None:
    def chart_of(text: str) -> AssessmentContext:
        record = {
            "resourceType": "Procedure",
            "id": "care-1",
            "status": "completed",
            "subject": {"reference": "Patient/p1"},
            "code": {"text": text},
            "performedDateTime": ago(30),
        }
        chart = chart_from_resources([patient(), record])
        return AssessmentContext(chart, Order(), POLICY, frozenset(), TODAY)

    for _ in range(2):
        assert [e.kind for e in care_episodes(chart_of("Physical therapy"), CRITERION)] == [
            "physical-therapy"
        ]
        assert [e.kind for e in care_episodes(chart_of("Chiropractic care"), CRITERION)] == [
            "chiropractic"
        ]
        assert care_episodes(chart_of("Knee arthroscopy"), CRITERION) == ()
