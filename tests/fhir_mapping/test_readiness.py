import pytest

from plugin.errors import InputProblemError, StudyInvalidError
from plugin.fhir_mapping.readiness import require_reportable
from plugin.interpretation.results import StudyInterpretation
from plugin.study.model import Level, LevelRole, PainResponse
from tests.fhir_mapping.examples import example_study_data, interpretation_for, study_from


def test_the_example_study_is_reportable() -> None:
    study = study_from(example_study_data())
    require_reportable(study, interpretation_for(study))


def test_missing_patient_is_named() -> None:
    data = example_study_data()
    del data["patient"]
    study = study_from(data)
    with pytest.raises(StudyInvalidError) as caught:
        require_reportable(study, interpretation_for(study))
    [problem] = caught.value.problems
    assert (problem.field, problem.rule) == ("patient", "required-for-report")
    assert "patient" in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    data = example_study_data()
    del data["patient"]
    data["performer"] = "Device/1"
    data["levels"][1]["comment"] = "bad \x00 byte"
    study = study_from(data)
    with pytest.raises(StudyInvalidError) as caught:
        require_reportable(study, interpretation_for(study))
    assert {(p.field, p.rule) for p in caught.value.problems} == {
        ("patient", "required-for-report"),
        ("performer.reference", "reference-type"),
        ("levels[1].comment", "control-character"),
    }


@pytest.mark.parametrize("text", ["tab\tand\r\nnewlines are fine", "中文 <script>\"'&"])
def test_ordinary_text_passes(text: str) -> None:
    data = example_study_data()
    data["levels"][0]["comment"] = text
    study = study_from(data)
    require_reportable(study, interpretation_for(study))


def test_unpaired_surrogate_is_reported_not_raised() -> None:
    # Validation refuses these in study JSON; a study built in code may still hold one.
    study = study_from(example_study_data())
    assert study.indication is not None
    indication = study.indication.model_copy(update={"text": "pain \ud800"})
    broken = study.model_copy(update={"indication": indication})
    with pytest.raises(StudyInvalidError) as caught:
        require_reportable(broken, interpretation_for(study))
    assert [(p.field, p.rule) for p in caught.value.problems] == [
        ("indication.text", "control-character")
    ]


def test_studies_built_in_code_are_checked_like_parsed_ones() -> None:
    study = study_from(example_study_data())
    broken = study.model_copy(
        update={
            "levels": [
                Level(level="L9-L10"),
                Level(level="L4-L5", pain_response=PainResponse.NONE),
                Level(level="L4-L5", pain_intensity=0, pain_response=PainResponse.NONE),
            ]
        }
    )
    with pytest.raises(StudyInvalidError) as caught:
        require_reportable(broken, interpretation_for(study))
    assert {(p.field, p.rule) for p in caught.value.problems} >= {
        ("levels[0].level", "unknown-level"),
        ("levels[1].level", "duplicate-level"),
        ("levels[1].pain_intensity", "required-when-completed"),
        ("levels[0].pain_response", "required-when-completed"),
    }


def test_an_interpretation_of_another_study_is_refused() -> None:
    study = study_from(example_study_data())
    interpretation = interpretation_for(study)
    other = StudyInterpretation(
        rule_sets=interpretation.rule_sets,
        levels=(
            interpretation.levels[0].model_copy(update={"role": LevelRole.SUSPECTED}),
            interpretation.levels[1],
            interpretation.levels[2].model_copy(update={"level": "L2-L3"}),
        ),
        conclusion=interpretation.conclusion,
    )
    with pytest.raises(InputProblemError) as caught:
        require_reportable(study, other)
    assert not isinstance(caught.value, StudyInvalidError)
    assert {(p.field, p.rule) for p in caught.value.problems} == {
        ("levels[0].role", "interpretation-mismatch"),
        ("levels[2]", "not-interpreted"),
        ("interpretation.levels[2]", "not-in-study"),
    }
