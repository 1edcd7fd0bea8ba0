from plugin.conformance.profiles import all_profiles


def test_the_five_profiles_in_write_order() -> None:
    profiles = all_profiles()
    assert [(p.id, p.type) for p in profiles] == [
        ("discography-procedure", "Procedure"),
        ("discography-level-observation", "Observation"),
        ("discography-diagnostic-report", "DiagnosticReport"),
        ("discography-document-reference", "DocumentReference"),
        ("discography-provenance", "Provenance"),
    ]
    for profile in profiles:
        assert profile.url.endswith(f"/StructureDefinition/{profile.id}")
        root = profile.differential[0]
        assert root["id"] == profile.type
        assert root["constraint"][0]["key"] == "dgm-profile"
