import json
from datetime import datetime
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from hypothesis import given, settings
from hypothesis import strategies as st

from plugin.conformance.r4_conformance import check_r4
from plugin.errors import InputProblemError, StudyInvalidError
from plugin.fhir_mapping import MappedStudy, map_study
from plugin.fhir_mapping.profiles import profile_url
from plugin.interpretation.engine import interpret_study
from plugin.interpretation.results import LevelCategory, PressureSensitivity
from plugin.interpretation.rule_set import default_rule_sets
from plugin.terminology import PRODUCT_CODE_SYSTEMS, code_system_url, standard_codes, system_url
from tests.fhir_mapping.examples import (
    ISSUED,
    example_study_data,
    interpretation_for,
    rendered_report,
    study_from,
)

PROFILES = {
    "Procedure": profile_url("discography-procedure"),
    "Observation": profile_url("discography-level-observation"),
    "DiagnosticReport": profile_url("discography-diagnostic-report"),
    "DocumentReference": profile_url("discography-document-reference"),
    "Provenance": profile_url("discography-provenance"),
}


def mapped_from(data: dict[str, Any], **kwargs: Any) -> MappedStudy:
    study = study_from(data)
    interpretation = interpretation_for(
        study,
        {"L4-L5": LevelCategory.HIGHLY_PROBABLE},
        {"L4-L5": PressureSensitivity.CHEMICAL},
    )
    kwargs.setdefault("issued", ISSUED)
    return map_study(study, interpretation, rendered_report(), **kwargs)


def rich_study() -> dict[str, Any]:
    """The example plus a second region, an aborted level and free text everywhere."""
    data = example_study_data()
    data["levels"].append(
        {
            "level": "C5-C6",
            "role": "control",
            "order": 4,
            "technical_result": "not-entered",
            "abort_reason": "Osteophyte",
        }
    )
    data["levels"][1]["comment"] = "Réponse « concordante » — 一致"
    data["complications"] = ["vasovagal", "Transient headache"]
    return data


def test_transaction_bundle_is_plain_json() -> None:
    bundle = mapped_from(rich_study()).transaction_bundle()
    assert json.loads(json.dumps(bundle, ensure_ascii=False)) == bundle


def test_every_resource_parses_back_with_the_fhir_models() -> None:
    bundle = mapped_from(rich_study(), library=default_rule_sets()).transaction_bundle()
    parsed = Bundle.model_validate(bundle)
    assert parsed.model_dump(mode="json", exclude_none=True) == bundle
    for entry in bundle["entry"]:
        resource = entry["resource"]
        model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert model.model_dump(mode="json", exclude_none=True) == resource


def test_only_r4_elements_are_emitted() -> None:
    bundle = mapped_from(rich_study(), library=default_rule_sets()).transaction_bundle()
    # The product's own R4 check (plugin.conformance), which knows R4's element list.
    assert check_r4(bundle, "Bundle") == []


def test_every_resource_claims_its_profile() -> None:
    for entry in mapped_from(rich_study()).transaction_bundle()["entry"]:
        resource = entry["resource"]
        assert resource["meta"]["profile"] == [PROFILES[resource["resourceType"]]]


def codings_in(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        here = [node] if "system" in node and "code" in node and "value" not in node else []
        return here + [c for value in node.values() for c in codings_in(value)]
    if isinstance(node, list):
        return [c for item in node for c in codings_in(item)]
    return []


def test_every_code_comes_from_the_mappings_or_a_product_code_system() -> None:
    bundle = mapped_from(rich_study()).transaction_bundle()
    standard = {system_url(key): set(standard_codes(key)) for key in ("loinc", "snomed", "cpt")}
    product = {
        code_system_url(cs.id): {code for code, _, _ in cs.concepts}
        for cs in PRODUCT_CODE_SYSTEMS.values()
    }
    seen_systems = set()
    for coding in codings_in(bundle):
        system, code = coding["system"], coding["code"]
        seen_systems.add(system)
        if system in standard:
            assert code in standard[system], coding
            assert "display" not in coding, coding
        elif system in product:
            assert code in product[system], coding
            cs_id = system.rsplit("/", 1)[1]
            assert coding["display"] == PRODUCT_CODE_SYSTEMS[cs_id].display(code)
    assert set(standard) <= seen_systems


def test_mapping_twice_gives_the_same_bundle() -> None:
    first = mapped_from(example_study_data()).transaction_bundle()
    assert mapped_from(example_study_data()).transaction_bundle() == first


def test_without_study_id_identifiers_are_stable_and_hash_based() -> None:
    data = example_study_data()
    del data["id"]
    first, second = mapped_from(data), mapped_from(data)
    assert first.identifiers == second.identifiers
    assert first.identifiers.key.startswith("sha256-")
    assert first.transaction_bundle() == second.transaction_bundle()


def test_observations_are_keyed_by_level_in_study_order() -> None:
    mapped = mapped_from(rich_study())
    assert list(mapped.observations) == ["L3-L4", "L4-L5", "L5-S1", "C5-C6"]
    assert len(mapped.items()) == 1 + 4 + 3


TRICKY = [
    "Douleur « familière » — 腰痛 — боль — ألم",
    "<script>alert('x')</script> & \"quoted\" 'single'",
    "Line one\nLine two\ttabbed",
    "😀 emoji and ZWJ 👩‍⚕️",
]


@pytest.mark.parametrize("text", TRICKY)
def test_free_text_round_trips_unchanged(text: str) -> None:
    data = example_study_data()
    data["patient"]["display"] = text
    data["indication"]["text"] = text
    data["levels"][1]["comment"] = text
    data["levels"][1]["pain_location"] = text
    data["complications"] = [{"code": "other", "text": text}]
    wire = json.loads(json.dumps(mapped_from(data).transaction_bundle(), ensure_ascii=False))
    procedure, _, observation = (e["resource"] for e in wire["entry"][:3])
    assert procedure["subject"]["display"] == text
    assert procedure["reasonCode"][0]["text"] == text
    assert procedure["complication"][0]["text"] == text
    assert observation["note"] == [{"text": text}]
    location = next(
        c for c in observation["component"] if c["code"]["coding"][0]["code"] == "pain-location"
    )
    assert location["valueString"] == text


@settings(max_examples=40, deadline=None)
@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60
    ).filter(lambda s: s.strip())
)
def test_any_comment_reaches_fhir_as_the_study_holds_it(text: str) -> None:
    data = example_study_data()
    data["levels"][0]["comment"] = text
    study = study_from(data)
    mapped = map_study(study, interpretation_for(study), rendered_report(), issued=ISSUED)
    wire = json.loads(json.dumps(mapped.transaction_bundle(), ensure_ascii=False))
    assert wire["entry"][1]["resource"]["note"] == [{"text": study.levels[0].comment}]


def test_missing_patient_is_refused_with_the_rule() -> None:
    data = example_study_data()
    del data["patient"]
    with pytest.raises(StudyInvalidError) as caught:
        mapped_from(data)
    assert [(p.field, p.rule) for p in caught.value.problems] == [
        ("patient", "required-for-report")
    ]


def test_issued_needs_a_time_zone() -> None:
    with pytest.raises(InputProblemError) as caught:
        mapped_from(example_study_data(), issued=datetime(2026, 11, 20, 12, 0))
    assert [(p.field, p.rule) for p in caught.value.problems] == [("issued", "timezone-required")]


def test_maps_the_engine_interpretation_of_the_shipped_example() -> None:
    study = study_from(example_study_data())
    library = default_rule_sets()
    interpretation = interpret_study(study, library)
    mapped = map_study(study, interpretation, rendered_report(), issued=ISSUED, library=library)
    for level, observation in mapped.observations.items():
        result = interpretation.result_for(level)
        assert result is not None
        [interpretation_code] = observation.interpretation or []
        assert interpretation_code.coding is not None
        assert interpretation_code.coding[0].code == result.interpretation.value
        category = (observation.component or [])[-2]
        assert category.valueCodeableConcept is not None
        assert category.valueCodeableConcept.coding is not None
        assert category.valueCodeableConcept.coding[0].code == result.category.value
    sensitivity = {
        level: (obs.component or [])[-1].model_dump(mode="json", exclude_none=True)
        for level, obs in mapped.observations.items()
    }
    # L4-L5: concordant at ΔP 8 → chemical. L5-S1: discordant pain at ΔP 46, which the
    # lumbar bands classify only for concordant pain → not applicable.
    assert sensitivity["L4-L5"]["valueCodeableConcept"]["coding"][0]["code"] == "chemical"
    assert sensitivity["L5-S1"]["dataAbsentReason"]["coding"][0]["code"] == "not-applicable"
    conclusion = mapped.diagnostic_report.conclusion or ""
    assert conclusion.startswith(interpretation.conclusion.text)
    assert "lumbar-manometric version 1.0.0" in conclusion
