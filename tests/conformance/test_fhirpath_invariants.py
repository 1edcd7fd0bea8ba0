from typing import Any

import pytest

from plugin.conformance.fhirpath_invariants import CompiledInvariant, compile_invariant
from plugin.conformance.issues import Severity


def invariant(expression: str, severity: str = "error") -> CompiledInvariant:
    return compile_invariant(
        {"key": "t-1", "severity": severity, "human": "test", "expression": expression}
    )


OBSERVATION: dict[str, Any] = {
    "resourceType": "Observation",
    "status": "final",
    "component": [{"code": {"text": "a"}, "valueQuantity": {"value": 3}}],
}


def test_holds_on_the_resource_and_on_an_element_with_its_type_path() -> None:
    assert invariant("status = 'final'").holds(OBSERVATION, "Observation", OBSERVATION) is True
    component = OBSERVATION["component"][0]
    check = invariant("value.exists() and %resource.status = 'final'")
    assert check.holds(component, "Observation.component", OBSERVATION) is True
    assert (
        invariant("value.value > 5").holds(component, "Observation.component", OBSERVATION) is False
    )


def test_an_empty_result_does_not_break_the_invariant() -> None:
    assert invariant("issued > @2020-01-01").holds(OBSERVATION, "Observation", OBSERVATION) is True


def test_severity_is_kept() -> None:
    assert invariant("true", "warning").severity is Severity.WARNING


def test_an_expression_that_does_not_parse_is_refused() -> None:
    with pytest.raises(ValueError, match="t-1"):
        invariant("'unterminated")


def test_an_expression_that_cannot_be_evaluated_neither_holds_nor_fails() -> None:
    assert invariant("nosuchfunction()").holds(OBSERVATION, "Observation", OBSERVATION) is None
