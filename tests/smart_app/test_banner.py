import pytest

from smart_app.banner import fhir_user_target, human_name, patient_banner, user_name

BASE = "https://ehr.example.org/fhir"


def test_official_name_is_preferred_and_text_wins() -> None:
    names = [
        {"use": "nickname", "given": ["Ada"]},
        {"use": "official", "prefix": ["Ms"], "given": ["Ada", "Q."], "family": "Testperson"},
    ]
    assert human_name(names) == "Ms Ada Q. Testperson"
    assert human_name([{"text": " Ada Testperson ", "family": "X"}]) == "Ada Testperson"
    assert human_name([]) is None and human_name("x") is None


def test_patient_banner_keeps_what_is_recorded() -> None:
    banner = patient_banner({"resourceType": "Patient", "id": "p1", "gender": "other"})
    assert banner.id == "p1"
    assert banner.name == "(no name recorded)"
    assert banner.birth_date is None and banner.gender == "other"


def test_practitioner_role_is_named_by_its_practitioner_display() -> None:
    role = {"resourceType": "PractitionerRole", "practitioner": {"display": "Dr. Okafor"}}
    assert user_name(role) == "Dr. Okafor"
    assert user_name({"resourceType": "PractitionerRole"}) is None


@pytest.mark.parametrize(
    ("fhir_user", "target"),
    [
        (f"{BASE}/Practitioner/9", ("Practitioner", "9")),
        ("Practitioner/9", ("Practitioner", "9")),
        ("/PractitionerRole/r-1", ("PractitionerRole", "r-1")),
        ("Patient/p.1", ("Patient", "p.1")),
        ("https://elsewhere.example/fhir/Practitioner/9", None),
        (f"{BASE}/Observation/9", None),
        ("Practitioner/../../admin", None),
        (f"{BASE}/Practitioner/9/_history/2", None),
    ],
)
def test_fhir_user_is_read_only_on_this_server(
    fhir_user: str, target: tuple[str, str] | None
) -> None:
    assert fhir_user_target(fhir_user, BASE) == target
