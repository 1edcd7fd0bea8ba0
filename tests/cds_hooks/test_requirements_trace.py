"""conformance/cds-hooks-requirements.md traces every Service/Server SHALL row of the CDS Hooks
2.0 and hook-library sections of shared/requirements/cds_hooks_reqs.csv; this keeps it honest."""

from __future__ import annotations

import ast
import csv
import re
from pathlib import Path

import pytest

from tests.conftest import UNDER_CI

ROOT = Path(__file__).resolve().parents[2]
TRACE = ROOT / "conformance" / "cds-hooks-requirements.md"
REQUIREMENTS = ROOT.parent / "shared" / "requirements" / "cds_hooks_reqs.csv"
SECTIONS = ("cds-hooks_2.0", "cds-hooks-library_1.0.1")
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def traced_rows() -> dict[tuple[str, str], str]:
    rows: dict[tuple[str, str], str] = {}
    for line in TRACE.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 5 and cells[0] in SECTIONS:
            rows[(cells[0], cells[1])] = cells[4]
    return rows


def shall_rows() -> set[tuple[str, str]]:
    with REQUIREMENTS.open(encoding="utf-8-sig") as handle:
        return {
            (row["Req Set"], row["ID"])
            for row in csv.DictReader(handle)
            if row["Req Set"] in SECTIONS
            and ("Service" in row["Actors"] or "Server" in row["Actors"])
            and row["Conformance"] in ("SHALL", "SHALL NOT")
        }


@pytest.mark.skipif(
    not REQUIREMENTS.is_file() and not UNDER_CI,
    reason="shared/requirements is not beside the project",
)
def test_every_shall_row_is_traced_once() -> None:
    wanted = shall_rows()
    assert len(wanted) > 70
    assert set(traced_rows()) == wanted


def test_each_row_names_existing_tests_or_a_reason() -> None:
    defined: dict[str, set[str]] = {}
    for cell in traced_rows().values():
        refs = TEST_REF.findall(cell)
        assert refs or cell.startswith("N/A"), cell
        for path, name in refs:
            if path not in defined:
                tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
                defined[path] = {
                    node.name
                    for node in tree.body
                    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                }
            assert name in defined[path], f"{path}::{name} does not exist"
