"""Rule-set files: the shipped defaults, site overrides, default selection and validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from plugin.errors import ConfigurationError, InputProblemError, RuleSetInvalidError
from plugin.interpretation.rule_set import (
    ControlScope,
    ManometricRuleSet,
    Method,
    RuleSetLibrary,
    TriangulationRuleSet,
    default_rule_sets,
    load_rule_set,
    parse_rule_set,
    rule_sets_dir,
)
from plugin.study.levels import DISC_LEVELS, Region, region_of


def shipped(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((rule_sets_dir() / f"{name}.json").read_text("utf-8"))
    return data


def problems_of(data: Any) -> list[tuple[str, str]]:
    with pytest.raises(RuleSetInvalidError) as raised:
        parse_rule_set(data)
    return [(p.field, p.rule) for p in raised.value.problems]


# --- the shipped files ----------------------------------------------------------------------


def test_shipped_rule_sets_load_with_their_ids_versions_and_methods() -> None:
    library = default_rule_sets()
    assert sorted(library.ids) == ["cervical-triangulation", "lumbar-manometric"]
    lumbar = library.get("lumbar-manometric")
    cervical = library.get("cervical-triangulation")
    assert (
        isinstance(lumbar, ManometricRuleSet)
        and lumbar.method is Method.MANOMETRIC_ADJACENT_CONTROL
    )
    assert isinstance(cervical, TriangulationRuleSet) and cervical.method is Method.TRIANGULATION
    assert (lumbar.version, cervical.version) == ("1.0.0", "1.1.0")
    assert lumbar.ref.id == "lumbar-manometric" and lumbar.ref.title == lumbar.title


def test_default_library_is_loaded_once() -> None:
    assert default_rule_sets() is default_rule_sets()


def test_lumbar_thresholds_are_the_numbers_of_clinical_md() -> None:
    thresholds = shipped("lumbar-manometric")["thresholds"]
    assert thresholds["pain_intensity"] == {"value": 7, "operator": ">="}
    assert thresholds["positive_delta_p_psi"] == {"value": 50, "operator": "<"}
    assert thresholds["definite_delta_p_psi"] == {"value": 15, "operator": "<"}
    assert thresholds["onset_volume_ml"] == {"value": 3.5, "operator": "<="}
    assert thresholds["control_pain_intensity"] == {"value": 0, "operator": "=="}
    assert thresholds["control_discordant_delta_p_psi"] == {"value": 15, "operator": ">"}
    bands = [
        (band["sensitivity"], band.get("lower"), band.get("upper"))
        for band in thresholds["pressure_sensitivity"]
    ]
    assert bands == [
        ("chemical", None, {"value": 15, "operator": "<"}),
        ("mechanical", {"value": 15, "operator": ">="}, {"value": 50, "operator": "<"}),
        (
            "indeterminate-pressure",
            {"value": 50, "operator": ">="},
            {"value": 90, "operator": "<="},
        ),
        ("normal", {"value": 90, "operator": ">"}, None),
    ]
    any_response = [band.get("any_response", False) for band in thresholds["pressure_sensitivity"]]
    assert any_response == [False, False, False, True]


def test_cervical_thresholds_are_the_numbers_of_clinical_md() -> None:
    thresholds = shipped("cervical-triangulation")["thresholds"]
    assert thresholds == {
        "pain_intensity": {"value": 7, "operator": ">="},
        "positive_delta_p_psi": {"value": 50, "operator": "<"},
        "dallas_grade": {"value": 3, "operator": ">="},
        "control_pain_intensity": {"value": 0, "operator": "=="},
    }


@pytest.mark.parametrize("name", ["lumbar-manometric", "cervical-triangulation"])
def test_unverified_sources_are_flagged_for_review(name: str) -> None:
    rule_set = default_rule_sets().get(name)
    assert rule_set is not None
    unverified = {c.id for c in rule_set.citations if not c.verified}
    assert unverified, "clinical.md marks some of these defaults ◌ to verify"
    assert unverified <= {note.citation for note in rule_set.review_notes}
    assert any(c.verified and c.url for c in rule_set.citations) or name == "cervical-triangulation"


def test_lumbar_review_notes_cover_every_item_clinical_md_marks_to_verify() -> None:
    subjects = {n.subject for n in default_rule_sets().get("lumbar-manometric").review_notes}  # type: ignore[union-attr]
    assert {
        "thresholds.onset_volume_ml",
        "thresholds.definite_delta_p_psi",
        "thresholds.pressure_sensitivity",
    } <= subjects


def test_default_rule_set_of_every_level() -> None:
    library = default_rule_sets()
    chosen = {level: library.for_level(level).id for level in DISC_LEVELS}
    for level, rule_set_id in chosen.items():
        lumbar = region_of(level) is Region.LUMBAR or level == "T12-L1"
        assert rule_set_id == ("lumbar-manometric" if lumbar else "cervical-triangulation"), level
    assert chosen["C7-T1"] == chosen["T11-T12"] == "cervical-triangulation"
    assert chosen["T12-L1"] == "lumbar-manometric"


# --- site files -------------------------------------------------------------------------------


def test_cervical_control_scope_is_the_study_as_in_clinical_md() -> None:
    """clinical.md §2b: "at least one other tested level in the study with intensity 0";
    'same-region' stays a documented site option."""
    cervical = default_rule_sets().get("cervical-triangulation")
    assert isinstance(cervical, TriangulationRuleSet)
    assert cervical.control_scope is ControlScope.STUDY
    notes = {note.subject: note.note for note in cervical.review_notes}
    assert "'same-region'" in notes["control_scope"] and "'same-region'" in cervical.description


def write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_site_file_with_a_shipped_id_replaces_it(tmp_path: Path) -> None:
    data = shipped("lumbar-manometric") | {"version": "2.0.0"}
    library = default_rule_sets().with_site_files([write(tmp_path, "site.json", data)])
    assert sorted(library.ids) == ["cervical-triangulation", "lumbar-manometric"]
    assert library.for_level("L4-L5").version == "2.0.0"
    assert default_rule_sets().for_level("L4-L5").version == "1.0.0"  # the default is untouched


def test_a_site_file_with_a_new_id_is_added_and_can_take_over_a_region(tmp_path: Path) -> None:
    strict = shipped("lumbar-manometric") | {"id": "lumbar-strict", "title": "Strict"}
    only_forced = shipped("cervical-triangulation") | {"id": "triangulation-any", "applies_to": {}}
    library = default_rule_sets().with_site_files(
        [write(tmp_path, "a.json", strict), write(tmp_path, "b.json", only_forced)]
    )
    assert len(library) == 4 and "triangulation-any" in library
    # the later-loaded rule set wins a region; one applying to nothing is only used when forced
    assert library.for_level("L4-L5").id == "lumbar-strict"
    assert library.for_level("C5-C6").id == "cervical-triangulation"


def test_a_named_level_beats_a_region() -> None:
    lumbar = parse_rule_set(shipped("lumbar-manometric"))
    cervical_with_t12 = parse_rule_set(
        shipped("cervical-triangulation")
        | {"id": "thoracic-all", "applies_to": {"regions": ["thoracic"]}}
    )
    library = RuleSetLibrary((lumbar,)).with_rule_sets([cervical_with_t12])
    assert library.for_level("T12-L1").id == "lumbar-manometric"
    assert library.for_level("T11-T12").id == "thoracic-all"


def test_no_rule_set_for_a_level_is_a_configuration_error() -> None:
    library = RuleSetLibrary((parse_rule_set(shipped("lumbar-manometric")),))
    with pytest.raises(ConfigurationError, match="no rule set applies to C5-C6"):
        library.for_level("C5-C6")
    with pytest.raises(InputProblemError, match="unknown disc level"):
        library.for_level("L6-L7")


def test_two_rule_sets_with_one_id_cannot_share_a_library() -> None:
    lumbar = parse_rule_set(shipped("lumbar-manometric"))
    with pytest.raises(ConfigurationError, match="lumbar-manometric"):
        RuleSetLibrary((lumbar, lumbar))


def test_get_an_unknown_id_is_none() -> None:
    assert default_rule_sets().get("nope") is None
    assert "nope" not in default_rule_sets()


# --- validation errors ------------------------------------------------------------------------


def test_a_threshold_must_be_a_number_with_a_known_operator() -> None:
    data = shipped("lumbar-manometric")
    data["thresholds"]["pain_intensity"] = {"value": "seven", "operator": "=>"}
    assert problems_of(data) == [
        ("thresholds.pain_intensity.value", "float_type"),
        ("thresholds.pain_intensity.operator", "enum"),
    ]


def test_an_infinite_or_nan_threshold_is_refused_naming_the_field(tmp_path: Path) -> None:
    # Python's JSON reader takes Infinity and NaN; as thresholds they compare to nothing useful.
    text = json.dumps(shipped("lumbar-manometric"))
    text = text.replace(
        '"positive_delta_p_psi": {"value": 50', '"positive_delta_p_psi": {"value": Infinity'
    )
    text = text.replace('"onset_volume_ml": {"value": 3.5', '"onset_volume_ml": {"value": NaN')
    path = tmp_path / "site.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleSetInvalidError) as raised:
        load_rule_set(path)
    assert [str(p) for p in raised.value.problems] == [
        "thresholds.positive_delta_p_psi.value: must be a finite number (got Infinity)",
        "thresholds.onset_volume_ml.value: must be a finite number (got NaN)",
    ]


def test_an_infinite_pressure_band_bound_is_refused() -> None:
    data = shipped("lumbar-manometric")
    data["thresholds"]["pressure_sensitivity"][0]["upper"]["value"] = float("-inf")
    assert ("thresholds.pressure_sensitivity[0].upper.value", "finite_number") in problems_of(data)


def test_a_missing_threshold_is_named() -> None:
    data = shipped("lumbar-manometric")
    del data["thresholds"]["onset_volume_ml"]
    assert problems_of(data) == [("thresholds.onset_volume_ml", "missing")]


def test_an_intensity_above_ten_and_a_grade_above_five_are_out_of_range() -> None:
    data = shipped("cervical-triangulation")
    data["thresholds"]["pain_intensity"]["value"] = 70
    data["thresholds"]["dallas_grade"]["value"] = 6
    assert problems_of(data) == [
        ("thresholds.pain_intensity.value", "range"),
        ("thresholds.dallas_grade.value", "range"),
    ]


def test_thresholds_of_the_wrong_method_are_rejected() -> None:
    data = shipped("lumbar-manometric") | {"method": "triangulation"}
    found = problems_of(data)
    assert ("thresholds.dallas_grade", "missing") in found
    assert ("thresholds.onset_volume_ml", "extra_forbidden") in found
    assert ("discordant_control_requires_single_adjacent", "extra_forbidden") in found


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"method": "bayesian"}, [("method", "union_tag_invalid")]),
        ({"version": "1.0"}, [("version", "string_pattern_mismatch")]),
        ({"id": "Lumbar Manometric"}, [("id", "string_pattern_mismatch")]),
        ({"title": ""}, [("title", "string_too_short")]),
        ({"applies_to": {"regions": ["sacral"]}}, [("applies_to.regions[0]", "enum")]),
        ({"applies_to": {"levels": ["L6-L7"]}}, [("applies_to.levels", "value_error")]),
        ({"colour": "blue"}, [("colour", "extra_forbidden")]),
    ],
)
def test_top_level_problems_name_the_field(change: dict[str, Any], expected: list[Any]) -> None:
    assert problems_of(shipped("lumbar-manometric") | change) == expected


def test_a_missing_method_is_named() -> None:
    data = shipped("lumbar-manometric")
    del data["method"]
    assert problems_of(data) == [("method", "union_tag_not_found")]


def test_pressure_bands_with_a_gap_are_rejected() -> None:
    data = shipped("lumbar-manometric")
    data["thresholds"]["pressure_sensitivity"][1]["lower"] = {"value": 16, "operator": ">="}
    with pytest.raises(RuleSetInvalidError) as raised:
        parse_rule_set(data)
    [problem] = raised.value.problems
    assert problem.field == "thresholds.pressure_sensitivity"
    assert "band 1 must start where band 0 stops" in problem.message


def test_pressure_bands_overlapping_at_a_boundary_are_rejected() -> None:
    data = shipped("lumbar-manometric")
    data["thresholds"]["pressure_sensitivity"][1]["lower"] = {"value": 15, "operator": ">"}
    assert problems_of(data) == [("thresholds.pressure_sensitivity", "value_error")]


def test_a_lower_bound_must_face_up() -> None:
    data = shipped("lumbar-manometric")
    data["thresholds"]["pressure_sensitivity"][1]["lower"] = {"value": 15, "operator": "<"}
    assert problems_of(data) == [("thresholds.pressure_sensitivity[1]", "value_error")]


def test_an_unverified_citation_needs_a_review_note() -> None:
    data = shipped("lumbar-manometric")
    data["review_notes"] = [n for n in data["review_notes"] if n.get("citation") != "derby-1999"]
    with pytest.raises(RuleSetInvalidError, match="derby-1999 need a review note"):
        parse_rule_set(data)


def test_a_review_note_must_name_a_real_threshold_and_citation() -> None:
    data = shipped("lumbar-manometric")
    data["review_notes"].append({"subject": "thresholds.opening_pressure", "note": "x"})
    with pytest.raises(RuleSetInvalidError, match="names no threshold"):
        parse_rule_set(data)
    data["review_notes"][-1] = {"subject": "x", "note": "x", "citation": "nobody-2020"}
    with pytest.raises(RuleSetInvalidError, match="unknown citation id"):
        parse_rule_set(data)


def test_a_rule_set_must_be_an_object() -> None:
    assert problems_of(["lumbar"]) == [("", "type")]


def test_an_unreadable_file_is_one_problem_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(RuleSetInvalidError) as raised:
        load_rule_set(tmp_path / "missing.json")
    [problem] = raised.value.problems
    assert problem.rule == "unreadable" and "missing.json" in problem.message


def test_a_file_that_is_not_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "id": "x",\n  oops\n}', encoding="utf-8")
    with pytest.raises(RuleSetInvalidError) as raised:
        load_rule_set(path)
    [problem] = raised.value.problems
    assert problem.rule == "json" and "line 3 column 3" in problem.message


def test_site_files_are_validated_when_loaded(tmp_path: Path) -> None:
    data = shipped("lumbar-manometric")
    data["thresholds"]["pain_intensity"]["operator"] = "≥"
    path = write(tmp_path, "site.json", data)
    with pytest.raises(RuleSetInvalidError) as raised:
        default_rule_sets().with_site_files([path])
    assert [p.field for p in raised.value.problems] == [
        f"{path}: thresholds.pain_intensity.operator"
    ]
