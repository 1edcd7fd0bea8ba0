from typing import Any

from plugin.fhir_mapping import MappedStudy, map_study
from plugin.fhir_mapping.provenance import installed_version
from tests.fhir_mapping.examples import (
    ISSUED,
    example_study_data,
    interpretation_for,
    rendered_report,
    study_from,
)

PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"


def mapped_from(data: dict[str, Any], **kwargs: Any) -> MappedStudy:
    study = study_from(data)
    return map_study(study, interpretation_for(study), rendered_report(), issued=ISSUED, **kwargs)


def test_provenance_shape() -> None:
    mapped = mapped_from(example_study_data(), software_version="9.8.7")
    provenance = mapped.provenance.model_dump(mode="json", exclude_none=True)
    assert provenance["meta"] == {
        "profile": [
            "https://discography-plugin.example/fhir/StructureDefinition/discography-provenance"
        ],
        "tag": [
            {
                "system": "https://discography-plugin.example/fhir/identifier/discography",
                "code": "example-lumbar-1.provenance",
            }
        ],
    }
    assert "identifier" not in provenance  # R4 Provenance has none
    assert provenance["recorded"] == "2026-11-20T11:45:12-05:00"
    assert provenance["activity"] == {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation", "code": "CREATE"}
        ]
    }
    assert provenance["agent"] == [
        {
            "type": {"coding": [{"system": PARTICIPANT, "code": "author"}]},
            "who": {
                "reference": "Practitioner/example-spine",
                "display": "Dr. Example Spine (fictional)",
            },
        },
        {
            "type": {"coding": [{"system": PARTICIPANT, "code": "assembler"}]},
            "who": {
                "identifier": {
                    "system": "https://discography-plugin.example/fhir/identifier/software",
                    "value": "discography-plugin",
                },
                "display": "Discography plugin 9.8.7",
            },
        },
    ]


def test_targets_every_other_resource_in_bundle_order() -> None:
    mapped = mapped_from(example_study_data())
    targets = [t.reference for t in mapped.provenance.target]
    ids = mapped.identifiers
    assert targets == [
        ids.procedure.full_url,
        *(ids.levels[level].full_url for level in ("L3-L4", "L4-L5", "L5-S1")),
        ids.report.full_url,
        ids.document.full_url,
    ]


def test_without_performer_only_the_software_agent_remains() -> None:
    data = example_study_data()
    del data["performer"]
    agents = mapped_from(data).provenance.model_dump(mode="json", exclude_none=True)["agent"]
    assert [a["type"]["coding"][0]["code"] for a in agents] == ["assembler"]


def test_default_version_is_the_installed_one() -> None:
    mapped = mapped_from(example_study_data())
    (_, software) = mapped.provenance.agent or []
    assert software.who.display == f"Discography plugin {installed_version()}"
    assert installed_version()[0].isdigit()
