"""The requirement trace tables in conformance/ cover every SHALL row of the shared
requirement lists, and every test file they cite exists."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from tests.conftest import UNDER_CI

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT.parent / "shared" / "requirements"


def _ids_in_table(text: str) -> set[int]:
    ids: set[int] = set()
    for line in text.splitlines():
        if not line.startswith("|") or line.startswith(("| ID", "|---")):
            continue
        for part in line.split("|")[1].split(","):
            part = part.strip()
            span = re.fullmatch(r"(\d+)\s*[–-]\s*(\d+)", part)
            if span:
                ids.update(range(int(span[1]), int(span[2]) + 1))
            elif part.isdigit():
                ids.add(int(part))
    return ids


def _shall_rows(name: str) -> list[dict[str, str]]:
    with (REQUIREMENTS / name).open(encoding="utf-8-sig", newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["Conformance"].strip() == "SHALL"]


@pytest.mark.skipif(
    not REQUIREMENTS.is_dir() and not UNDER_CI,
    reason="shared/requirements is not beside the project",
)
def test_every_smart_client_shall_row_is_traced() -> None:
    traced = _ids_in_table((ROOT / "conformance" / "smart-client-requirements.md").read_text())
    missing = [
        row["ID"] for row in _shall_rows("smart_client_reqs.csv") if int(row["ID"]) not in traced
    ]
    assert missing == []


def test_cited_test_files_exist() -> None:
    text = (ROOT / "conformance" / "smart-client-requirements.md").read_text()
    cited = set(re.findall(r"\b((?:[a-z_]+/)?test_[a-z_]+)::", text))
    assert cited, "the table cites no tests"
    missing = [
        name
        for name in cited
        if not (ROOT / "tests" / "smart_app" / f"{name}.py").is_file()
        and not (ROOT / "tests" / "integration" / f"{name}.py").is_file()
    ]
    assert missing == []
