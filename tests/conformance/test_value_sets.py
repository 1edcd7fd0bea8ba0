import typing

from plugin.conformance.level_components import LEVEL_COMPONENTS
from plugin.conformance.value_sets import (
    DATA_ABSENT_REASONS,
    DOCUMENT_TYPE_CODES,
    value_set_resources,
)
from plugin.study.levels import DISC_LEVELS
from plugin.terminology import PRODUCT_CODE_SYSTEMS, standard_codes
from smart_app.settings import EhrRegistration


def by_id() -> dict[str, dict[str, typing.Any]]:
    return {vs["id"]: vs for vs in value_set_resources()}


def test_a_value_set_of_all_codes_per_code_system() -> None:
    value_sets = by_id()
    for system in PRODUCT_CODE_SYSTEMS.values():
        assert value_sets[system.id]["compose"] == {"include": [{"system": system.url}]}


def test_component_codes_follow_the_level_components() -> None:
    include = by_id()["discography-component"]["compose"]["include"]
    listed = [(part["system"], c["code"]) for part in include for c in part["concept"]]
    assert sorted(listed) == sorted((c.system, c.code) for c in LEVEL_COMPONENTS)


def test_standard_codes_come_from_the_mappings_without_display() -> None:
    value_sets = by_id()
    discs = value_sets["intervertebral-disc"]["compose"]["include"][0]["concept"]
    snomed = standard_codes("snomed")
    assert [snomed[c["code"]]["level"] for c in discs] == list(DISC_LEVELS)
    loinc = standard_codes("loinc")
    for vs_id in ("discography-study-type", "discography-document-type"):
        for concept in value_sets[vs_id]["compose"]["include"][0]["concept"]:
            assert concept["code"] in loinc and "display" not in concept
    assert all("display" not in c for c in discs)


def test_document_types_are_those_a_registration_may_choose() -> None:
    annotation = EhrRegistration.model_fields["document_type"].annotation
    assert set(typing.get_args(annotation)) == set(DOCUMENT_TYPE_CODES)


def test_data_absent_reasons() -> None:
    concept = by_id()["discography-data-absent-reason"]["compose"]["include"][0]["concept"]
    assert {c["code"] for c in concept} == set(DATA_ABSENT_REASONS)
    assert set(DATA_ABSENT_REASONS) == {"not-performed", "not-applicable", "unknown"}
