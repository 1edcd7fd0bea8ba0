"""Every standard code in the project comes from mappings/standard-codes.json, and that file
holds only codes of shared/clinical.md §5 (or a cited source)."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plugin.study.levels import DISC_LEVELS
from plugin.terminology import (
    PRODUCT_CODE_SYSTEMS,
    disc_snomed_code,
    standard_code,
    standard_codes,
    system_url,
)
from tests.conftest import UNDER_CI

ROOT = Path(__file__).resolve().parents[1]
CLINICAL = ROOT.parent / "shared" / "clinical.md"
STANDARD_KEYS = ("loinc", "snomed", "cpt")


def _codings(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        if isinstance(node.get("system"), str) and isinstance(node.get("code"), str):
            yield node["system"], node["code"]
        for value in node.values():
            yield from _codings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _codings(value)


def _project_json_files() -> list[Path]:
    skip = {ROOT / "mappings" / "standard-codes.json"}
    return [
        path
        for folder in ("conformance", "mappings", "plugin", "smart_app", "tests")
        for path in (ROOT / folder).rglob("*.json")
        if path not in skip
    ]


def test_every_disc_level_has_its_snomed_disc_code() -> None:
    codes = {disc_snomed_code(level).code for level in DISC_LEVELS}
    assert len(codes) == len(DISC_LEVELS)
    assert disc_snomed_code("L4-L5").code == "84020006"
    assert disc_snomed_code("L5-S1").code == "715056000"
    assert disc_snomed_code("C2-C3").code == "1078209008"


@pytest.mark.skipif(
    not CLINICAL.is_file() and not UNDER_CI, reason="shared/clinical.md is not beside the project"
)
@pytest.mark.parametrize("key", STANDARD_KEYS)
def test_standard_codes_all_appear_in_the_clinical_reference(key: str) -> None:
    text = CLINICAL.read_text(encoding="utf-8")
    for code in standard_codes(key):
        if key == "cpt" and code in ("98941",):
            assert "98940–98942" in text  # a range in the reference
            continue
        if key == "cpt" and code in ("97162", "97163"):
            assert "97161–97164" in text
            continue
        assert re.search(rf"(?<![\d-]){re.escape(code)}(?![\d])", text), f"{key} {code}"


def test_every_standard_coding_in_project_files_is_listed() -> None:
    systems = {system_url(key): key for key in STANDARD_KEYS}
    unknown: list[str] = []
    for path in _project_json_files():
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            continue
        for system, code in _codings(document):
            key = systems.get(system)
            if key is not None and code not in standard_codes(key):
                unknown.append(f"{path.relative_to(ROOT)}: {key} {code}")
    assert unknown == []


LOINC_LITERAL = re.compile(r"""["'](\d{3,5}-\d)["']""")


def test_every_loinc_literal_in_python_is_listed() -> None:
    loinc = standard_codes("loinc")
    unknown = [
        f"{path.relative_to(ROOT)}: {match}"
        for folder in ("plugin", "smart_app")
        for path in (ROOT / folder).rglob("*.py")
        for match in LOINC_LITERAL.findall(path.read_text(encoding="utf-8"))
        if match not in loinc
    ]
    assert unknown == []


def test_unlisted_code_is_refused() -> None:
    with pytest.raises(KeyError):
        standard_code("loinc", "12345-6")


def test_product_code_systems_have_unique_codes_and_displays() -> None:
    for system in PRODUCT_CODE_SYSTEMS.values():
        codes = [code for code, _, _ in system.concepts]
        assert len(codes) == len(set(codes)), system.id
        assert all(display and definition for _, display, definition in system.concepts)
        assert system.url.endswith(f"/CodeSystem/{system.id}")
