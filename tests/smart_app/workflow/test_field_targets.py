"""Where each problem is corrected and how the error summary names it."""

from plugin.errors import Problem
from smart_app.workflow.field_targets import field_messages, field_target, summary_items
from smart_app.workflow.page_frame import Step

DOCUMENT = {"levels": [{"level": "L3-L4"}, {"level": "L4-L5"}]}
URLS = {Step.SETUP: "/app/studies/x/setup", Step.LEVELS: "/app/studies/x/levels"}


def test_level_fields_are_found_by_disc_name() -> None:
    target = field_target("levels[1].onset_pressure_psi", DOCUMENT)
    assert target.step is Step.LEVELS
    assert target.input_id == "lv-L4-L5-onset_pressure_psi"
    assert target.label == "L4-L5 · Pressure at pain onset"
    assert field_target("levels[0]", DOCUMENT).input_id == "level-L3-L4"
    assert field_target("levels[1].order", DOCUMENT).step is Step.SETUP
    assert field_target("levels[7].pain_intensity", DOCUMENT).label == "Disc 8 · Pain intensity"


def test_study_fields_go_to_their_page() -> None:
    assert field_target("technique.approach", DOCUMENT).input_id == "technique-approach"
    assert field_target("indication.criteria_met[2]", DOCUMENT).step is Step.SETUP
    assert field_target("performed", DOCUMENT).input_id == "performed-local"
    assert field_target("complications[0].text", DOCUMENT).input_id == "complications"
    assert field_target("region", DOCUMENT).step is Step.SETUP
    assert field_target("patient", DOCUMENT).step is None


def test_the_summary_links_within_the_page_or_to_the_other_one() -> None:
    problems = [
        Problem("levels[1].pain_intensity", "range", "must be at most 10 (got 12)"),
        Problem("technique.sedation", "string_too_long", "is too long"),
        Problem("patient", "draft-patient", "names another patient"),
    ]
    items = summary_items(problems, DOCUMENT, Step.LEVELS, URLS)
    assert [(i.label, i.message, i.href) for i in items] == [
        ("L4-L5 · Pain intensity", "Must be at most 10 (got 12)", "#lv-L4-L5-pain_intensity"),
        ("Sedation", "Is too long", "/app/studies/x/setup#technique-sedation"),
        ("Patient", "Names another patient", None),
    ]
    messages = field_messages(problems, DOCUMENT, Step.LEVELS)
    assert messages == {"lv-L4-L5-pain_intensity": "Must be at most 10 (got 12)"}
