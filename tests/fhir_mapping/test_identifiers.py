import re
import uuid

from plugin.fhir_mapping.identifiers import (
    IDENTIFIER_SYSTEM,
    ResourceIdentity,
    study_identifiers,
    study_key,
)
from tests.fhir_mapping.examples import example_study_data, study_from

SYSTEM = "https://discography-plugin.example/fhir/identifier/discography"


def test_identifier_system_sits_under_the_canonical_base() -> None:
    assert IDENTIFIER_SYSTEM == SYSTEM


def test_study_id_is_the_key_when_present() -> None:
    study = study_from(example_study_data())
    ids = study_identifiers(study)
    assert ids.key == "example-lumbar-1"
    assert ids.procedure.value == "example-lumbar-1.procedure"
    assert ids.report.value == "example-lumbar-1.report"
    assert ids.document.value == "example-lumbar-1.document"
    assert ids.provenance.value == "example-lumbar-1.provenance"
    assert list(ids.levels) == ["L3-L4", "L4-L5", "L5-S1"]
    assert ids.levels["L4-L5"].value == "example-lumbar-1.level.L4-L5"


def test_without_id_the_key_is_a_content_hash_stable_across_parses() -> None:
    data = example_study_data()
    del data["id"]
    first, second = study_key(study_from(data)), study_key(study_from(data))
    assert re.fullmatch(r"sha256-[0-9a-f]{32}", first)
    assert first == second


def test_without_id_different_studies_get_different_keys() -> None:
    data = example_study_data()
    del data["id"]
    changed = example_study_data()
    del changed["id"]
    changed["levels"][1]["pain_intensity"] = 9
    assert study_key(study_from(data)) != study_key(study_from(changed))


def test_hash_ignores_key_order_and_json_spelling_of_the_input() -> None:
    data = example_study_data()
    del data["id"]
    reordered = dict(reversed(list(data.items())))
    reordered["levels"][0]["level"] = "l3/l4"  # normalised to L3-L4 by validation
    assert study_key(study_from(data)) == study_key(study_from(reordered))


def test_full_url_is_the_uuid5_of_system_and_value() -> None:
    identity = ResourceIdentity("abc.level.L4-L5")
    expected = uuid.uuid5(uuid.NAMESPACE_URL, f"{SYSTEM}|abc.level.L4-L5")
    assert identity.full_url == f"urn:uuid:{expected}"
    assert identity.full_url != ResourceIdentity("abd.level.L4-L5").full_url


def test_if_none_exist_searches_by_identifier_or_by_tag_for_provenance() -> None:
    study = study_from(example_study_data())
    ids = study_identifiers(study)
    assert ids.procedure.if_none_exist == f"identifier={SYSTEM}|example-lumbar-1.procedure"
    assert ids.provenance.if_none_exist == f"_tag={SYSTEM}|example-lumbar-1.provenance"


def test_identifier_and_reference_models() -> None:
    identity = ResourceIdentity("abc.report")
    assert identity.identifier().model_dump(exclude_none=True) == {
        "system": SYSTEM,
        "value": "abc.report",
    }
    assert identity.reference().reference == identity.full_url
