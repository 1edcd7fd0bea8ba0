"""`fhir_json` gives exactly what fhir.resources' own serializer gives, key order included."""

import json
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from hypothesis import given, settings
from hypothesis import strategies as st

from plugin.fhir_mapping import map_study
from plugin.fhir_mapping.json_form import fhir_json
from plugin.interpretation.engine import interpret_study
from plugin.interpretation.rule_set import default_rule_sets
from plugin.study.validation import parse_study
from tests.fhir_mapping.examples import ISSUED, example_study_data, rendered_report


def slow(model: Any) -> Any:
    return model.model_dump(mode="json", exclude_none=True)


def same(model: Any) -> None:
    fast = fhir_json(model)
    assert json.dumps(fast, ensure_ascii=False) == json.dumps(slow(model), ensure_ascii=False)


def test_mapped_bundle_matches_the_library_serializer() -> None:
    study = parse_study(example_study_data()).study
    mapped = map_study(
        study,
        interpret_study(study),
        rendered_report(),
        issued=ISSUED,
        library=default_rule_sets(),
    )
    same(mapped.bundle())
    assert mapped.transaction_bundle() == slow(mapped.bundle())


def test_primitive_extensions_decimals_and_dates() -> None:
    patient = Patient.model_validate(
        {
            "resourceType": "Patient",
            "birthDate": "1970-03",
            "_birthDate": {"extension": [{"url": "http://example.org/x", "valueCode": "a"}]},
            "name": [{"given": ["Ana", "María"], "family": "Núñez"}],
            "deceasedDateTime": "2026-01-01T10:00:00Z",
        }
    )
    same(patient)
    observation = Observation.model_validate(
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "x"},
            "valueQuantity": {"value": Decimal("12.50"), "unit": "psi"},
            "issued": "2026-11-20T09:30:00.123-05:00",
            "component": [{"code": {"text": "n"}, "valueInteger": 3}],
        }
    )
    same(observation)


@settings(max_examples=40, deadline=None)
@given(
    value=st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False),
    text=st.text(min_size=1, max_size=30).filter(lambda t: t.strip() != ""),
)
def test_any_quantity_and_text(value: Decimal, text: str) -> None:
    observation = Observation.model_validate(
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": text.strip()},
            "valueQuantity": {"value": value, "unit": "mL"},
        }
    )
    same(observation)
