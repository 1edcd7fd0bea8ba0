"""The level inputs are named after the disc and the study model's field."""

import pytest

from plugin.study.levels import DISC_LEVELS
from plugin.study.model import Level
from smart_app.workflow.entry_fields import LEVEL_FIELDS, level_field_id, parse_level_field_id


@pytest.mark.parametrize("level", DISC_LEVELS)
def test_every_input_name_reads_back(level: str) -> None:
    for field in LEVEL_FIELDS:
        assert parse_level_field_id(level_field_id(level, field.name)) == (level, field.name)


def test_fields_are_the_models_and_nothing_else_parses() -> None:
    assert {f.name for f in LEVEL_FIELDS} <= set(Level.model_fields)
    assert parse_level_field_id("lv-L4-L5-present") is None
    assert parse_level_field_id("lv-L4-L5-order") is None  # set on the setup page only
    assert parse_level_field_id("csrf_token") is None
