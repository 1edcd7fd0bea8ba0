"""The candidacy assessment as the report's indication cites it."""

from datetime import UTC, datetime

from plugin.candidacy import default_policy
from smart_app.workflow.candidacy_attesters import Attester, GivenAttestation
from smart_app.workflow.candidacy_citation import cite_assessment
from smart_app.workflow.chart_reading import ChartGap
from tests.candidacy.chart_builder import BOTH, LUMBAR, assess, good_lumbar_chart, med_request

NOV_20 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC).timestamp()


def test_a_candidate_cites_policy_outcome_attestations_criteria_and_reasons() -> None:
    assessment = assess(good_lumbar_chart(), order=LUMBAR, attest=BOTH)
    proceduralist = Attester("Practitioner/sp", "Spine-Proceduralist Testdoctor", "Physician")
    given = [GivenAttestation(a, proceduralist, NOV_20) for a in BOTH]
    citation = cite_assessment(assessment, default_policy(), attested=given)
    policy = assessment.policy
    assert citation.summary.startswith(
        f"Candidacy assessed on {assessment.today.isoformat()} under policy {policy.id} "
        f"{policy.version}"
    )
    assert "physician attested" not in citation.summary
    attested = citation.summary.split(
        "Attested by Spine-Proceduralist Testdoctor (Physician) on 2026-11-20: ", 1
    )[1]
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


def test_the_report_names_whoever_attested_never_the_physician() -> None:
    # A physical therapist ticking both attestations is named as such, not as "the physician".
    assessment = assess(good_lumbar_chart(), order=LUMBAR, attest=BOTH)
    therapist = Attester(
        "Practitioner/physical-therapist", "Physical-Therapist Testtherapist (Physical therapist)"
    )
    later = datetime(2026, 11, 21, tzinfo=UTC).timestamp()
    given = [
        GivenAttestation("imaging-inconclusive", therapist, NOV_20),
        GivenAttestation("decision-hinges", therapist, later),
    ]
    summary = cite_assessment(assessment, default_policy(), attested=given).summary
    assert "physician attested" not in summary.lower()
    assert (
        "Attested by Physical-Therapist Testtherapist (Physical therapist) on 2026-11-20: "
        "Imaging does not explain the patient's pain." in summary
    )
    assert (
        "Attested by Physical-Therapist Testtherapist (Physical therapist) on 2026-11-21: "
        in summary
    )


def test_an_attestation_without_a_record_of_who_gave_it_says_so() -> None:
    assessment = assess(good_lumbar_chart(), order=LUMBAR, attest=("imaging-inconclusive",))
    summary = cite_assessment(assessment, default_policy()).summary
    assert "Attested (by whom was not recorded): Imaging does not explain" in summary
