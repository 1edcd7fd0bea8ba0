"""The candidacy assessment as the report's indication cites it."""

from plugin.candidacy import default_policy
from smart_app.workflow.candidacy_citation import cite_assessment
from smart_app.workflow.chart_reading import ChartGap
from tests.candidacy.chart_builder import BOTH, LUMBAR, assess, good_lumbar_chart, med_request


def test_a_candidate_cites_policy_outcome_attestations_criteria_and_reasons() -> None:
    assessment = assess(good_lumbar_chart(), order=LUMBAR, attest=BOTH)
    citation = cite_assessment(assessment, default_policy())
    policy = assessment.policy
    assert citation.summary.startswith(
        f"Candidacy assessed on {assessment.today.isoformat()} under policy {policy.id} "
        f"{policy.version}"
    )
    attested = citation.summary.split("The physician attested: ", 1)[1]
    assert "Imaging does not explain the patient's pain." in attested
    assert "the decision depends on the discography result." in attested
    assert len(citation.criteria_met) == len(assessment.criteria)
    assert citation.criteria_met[0].startswith(assessment.criteria[0].title + ": ")
    kinds = {ref.split("/")[0] for ref in citation.reason_references}
    assert kinds and kinds <= {"Condition", "DiagnosticReport", "DocumentReference"}


def test_open_criteria_safety_actions_and_chart_gaps_are_in_the_summary() -> None:
    chart = [
        *good_lumbar_chart(),
        med_request("apixaban 5 mg oral tablet", "apx", authored="2024-05-11"),
    ]
    assessment = assess(chart, order=LUMBAR, attest=("imaging-inconclusive",))
    gap = ChartGap("AllergyIntolerance", "the EHR did not grant searching it")
    citation = cite_assessment(assessment, default_policy(), [gap])
    assert "Treatment decision hinges on the result — unknown:" in citation.summary
    assert "Safety (action): Hold apixaban" in citation.summary
    assert (
        "Parts of the chart were not read: AllergyIntolerance the EHR did not grant"
        in citation.summary
    )
    assert not any(c.startswith("Treatment decision") for c in citation.criteria_met)
