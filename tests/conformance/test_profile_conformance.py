from typing import Any

import pytest

from plugin.conformance.package import default_package
from plugin.conformance.profile_conformance import check_profile, matches_pattern
from plugin.fhir_mapping.profiles import PROCEDURE_PROFILE, profile_url

CODING = {"system": "http://loinc.org", "code": "72514-3"}


@pytest.mark.parametrize(
    ("value", "pattern", "expected"),
    [
        ({"coding": [CODING], "text": "Pain"}, {"coding": [CODING]}, True),
        ({"coding": [{"system": "s", "code": "x"}, CODING]}, {"coding": [CODING]}, True),
        ({"coding": [{**CODING, "display": "Pain"}]}, {"coding": [CODING]}, True),
        (
            {"coding": [{"system": "http://loinc.org", "code": "777-3"}]},
            {"coding": [CODING]},
            False,
        ),
        ({"text": "Pain"}, {"coding": [CODING]}, False),
        ("final", "final", True),
        ("final", "amended", False),
        (True, 1, False),  # a boolean is not a number
        (1, 1.0, True),
        ({"contentType": "text/html", "data": "x"}, {"contentType": "text/html"}, True),
    ],
)
def test_pattern_semantics(value: Any, pattern: Any, expected: bool) -> None:
    assert matches_pattern(value, pattern) is expected


def test_profile_of_another_type_is_reported_once() -> None:
    profile = default_package().profiles[profile_url(PROCEDURE_PROFILE)]
    issues = check_profile(
        {"resourceType": "Observation"}, profile, default_package(), "Observation"
    )
    assert [(i.path, i.rule) for i in issues] == [("Observation", "profile-type")]


def test_primitive_given_only_an_extension_counts_as_present() -> None:
    profile = default_package().profiles[profile_url(PROCEDURE_PROFILE)]
    procedure = {
        "resourceType": "Procedure",
        "_status": {"extension": [{"url": "http://example.org/x", "valueString": "y"}]},
    }
    rules = {(i.path, i.rule) for i in check_profile(procedure, profile, default_package(), "P")}
    assert ("P.status", "min-cardinality") not in rules
    assert ("P.subject", "min-cardinality") in rules
