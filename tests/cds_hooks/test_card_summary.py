from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from plugin.candidacy.assessment import Assessment
from plugin.cds_hooks.card_summary import SUMMARY_LIMIT, candidacy_summary, fitted
from tests.cds_hooks.assessments import assessment_for

CASES = ["lumbar-candidate", "short-conservative-care", "on-apixaban", "pregnant", "no-spine-mri"]


def test_summaries_name_the_outcome_and_what_decides_it() -> None:
    assert candidacy_summary(assessment_for("lumbar-candidate")).startswith(
        "Discography candidate:"
    )
    short = candidacy_summary(assessment_for("short-conservative-care"))
    assert short.startswith("Not a discography candidate: Failed conservative care (not met)")
    # An action to take is named before an unknown attestation.
    apixaban = candidacy_summary(assessment_for("on-apixaban", ()))
    assert "apixaban" in apixaban and apixaban.endswith("more")


def test_fitted_cuts_at_a_word_with_an_ellipsis() -> None:
    assert fitted("short  text\n") == "short text"
    cut = fitted("word " * 60)
    assert len(cut) <= SUMMARY_LIMIT and cut.endswith("word…")


def _with_long_titles(assessment: Assessment, title: str) -> Assessment:
    criteria = tuple(c.model_copy(update={"title": title}) for c in assessment.criteria)
    safety = tuple(s.model_copy(update={"title": title}) for s in assessment.safety)
    return assessment.model_copy(update={"criteria": criteria, "safety": safety})


@settings(max_examples=150, deadline=None)
@given(
    case=st.sampled_from(CASES),
    title=st.text(min_size=1, max_size=4000),
    attested=st.booleans(),
)
def test_summary_is_always_under_140_characters(case: str, title: str, attested: bool) -> None:
    attestations = ("imaging-inconclusive", "decision-hinges") if attested else ()
    summary = candidacy_summary(_with_long_titles(assessment_for(case, attestations), title))
    assert 0 < len(summary) < 140
    assert "\n" not in summary
