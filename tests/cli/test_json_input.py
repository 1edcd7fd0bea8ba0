"""JSON read on the command line: nesting far beyond FHIR or study JSON is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plugin.cli.json_input import (
    MAX_NESTING,
    JsonTooDeepError,
    check_nesting,
    loads,
    nesting_depth,
)
from plugin.errors import InputProblemError


@pytest.mark.parametrize(
    ("value", "depth"),
    [(7, 0), ("text", 0), ([], 1), ({"a": [1, {"b": None}]}, 3), ([[[]], []], 3)],
)
def test_nesting_depth_counts_arrays_and_objects(value: object, depth: int) -> None:
    assert nesting_depth(value) == depth


def test_nesting_up_to_the_limit_is_read() -> None:
    text = "[" * MAX_NESTING + "]" * MAX_NESTING
    assert nesting_depth(loads(text)) == MAX_NESTING


@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 100_000])
def test_deeper_nesting_is_refused_without_a_recursion_error(depth: int) -> None:
    with pytest.raises(JsonTooDeepError) as raised:
        loads("[" * depth + "]" * depth)
    assert str(raised.value) == (
        "JSON nested more than 100 levels deep; no FHIR resource, study or rule set nests "
        "that deeply"
    )


def test_check_nesting_names_the_file_and_leaves_syntax_errors_to_the_reader(
    tmp_path: Path,
) -> None:
    path = tmp_path / "deep.json"
    with pytest.raises(InputProblemError) as raised:
        check_nesting(path, "[" * 5000)
    [problem] = raised.value.problems
    assert (problem.field, problem.rule) == (str(path), "nesting")
    check_nesting(path, "{not json")  # the file's own reader says where the syntax breaks
    check_nesting(path, json.dumps({"resourceType": "Patient"}))
