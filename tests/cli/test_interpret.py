"""`discogram interpret`: JSON on stdout, warnings and errors on stderr, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from plugin.cli import main
from plugin.interpretation.rule_set import rule_sets_dir
from plugin.resources import mappings_dir

EXAMPLE = Path(__file__).resolve().parents[2] / "plugin" / "examples" / "lumbar-three-level.json"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["interpret", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_interprets_the_shipped_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(EXAMPLE))
    assert code == 0 and err == ""
    document = json.loads(out)
    assert set(document) == {"rule_sets", "levels", "conclusion", "warnings"}
    assert document["rule_sets"] == [
        {
            "id": "lumbar-manometric",
            "version": "1.0.0",
            "title": "Lumbar manometric criteria with adjacent negative controls",
        }
    ]
    by_level = {entry["level"]: entry for entry in document["levels"]}
    assert {name: e["category"] for name, e in by_level.items()} == {
        "L3-L4": "negative",
        "L4-L5": "definite",
        "L5-S1": "negative",
    }
    l4 = by_level["L4-L5"]
    assert l4["interpretation"] == "POS"
    assert l4["pressure_sensitivity"] == "chemical"
    assert l4["delta_p_psi"] == 8.0
    assert l4["controls"] == ["L3-L4", "L5-S1"]
    assert l4["rule_set"] == "lumbar-manometric"
    intensity = next(c for c in l4["criteria"] if c["id"] == "intensity")
    assert intensity == {
        "id": "intensity",
        "description": "pain intensity ≥ 7/10",
        "status": "met",
        "values": {"pain_intensity": 8, "threshold": 7, "operator": ">="},
        "explanation": "Pain intensity 8/10 meets ≥ 7/10.",
    }
    assert "pressure_sensitivity" not in by_level["L3-L4"]  # painless, peak not high enough
    assert document["conclusion"] == {
        "code": "discogenic-level-identified",
        "positive_levels": [{"level": "L4-L5", "category": "definite"}],
        "valid_control": True,
        "text": "Discogenic level identified: L4-L5 (definite). Negative controls: L3-L4, L5-S1.",
    }
    assert document["warnings"] == []


def test_warnings_go_to_the_json_and_to_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = {
        "levels": [
            {
                "level": "C4-C5",
                "pain_intensity": 0,
                "pain_response": "none",
                "total_volume_ml": 2.0,
            },
            {
                "level": "C5-C6",
                "pain_intensity": 8,
                "pain_response": "concordant",
                "dallas_grade": 4,
            },
        ]
    }
    code, out, err = run(capsys, str(write(tmp_path, "study.json", study)))
    assert code == 0
    document = json.loads(out)
    assert (
        "levels[0].total_volume_ml: 2 mL is unusually large for a cervical disc (more than "
        "1.5 mL); please check" in document["warnings"]
    )
    assert err.splitlines() == [f"warning: {w}" for w in document["warnings"]]
    assert [e["category"] for e in document["levels"]] == ["negative", "positive"]
    assert all("pressure_sensitivity" not in e for e in document["levels"])


def test_a_site_rule_set_file_overrides_the_shipped_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = json.loads((rule_sets_dir() / "lumbar-manometric.json").read_text("utf-8"))
    site["version"] = "1.0.1-site"
    site["thresholds"]["definite_delta_p_psi"]["value"] = 5
    path = write(tmp_path, "lumbar-site.json", site)
    code, out, _ = run(capsys, str(EXAMPLE), "--rule-set-file", str(path))
    assert code == 0
    document = json.loads(out)
    assert document["rule_sets"][0]["version"] == "1.0.1-site"
    by_level = {e["level"]: e["category"] for e in document["levels"]}
    assert by_level["L4-L5"] == "probable"  # ΔP 8 is no longer below the definite threshold


def test_a_missing_study_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, str(tmp_path / "nope.json"))
    assert (code, out) == (2, "")
    assert "cannot read study file" in err and "nope.json" in err


def test_a_missing_rule_set_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, str(EXAMPLE), "--rule-set-file", str(tmp_path / "site.json"))
    assert (code, out) == (2, "")
    assert "cannot read rule-set file" in err and "site.json" in err


def test_an_invalid_study_lists_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = {
        "levels": [
            {"level": "L4-L5", "pain_intensity": 12, "pain_response": "concordant"},
            {"level": "L9-L10", "pain_intensity": 0, "pain_response": "none"},
        ]
    }
    code, out, err = run(capsys, str(write(tmp_path, "study.json", study)))
    assert (code, out) == (2, "")
    lines = err.splitlines()
    assert all(line.startswith("error: ") for line in lines)
    assert any(
        line.startswith("error: levels[0].pain_intensity: must be at most 10") for line in lines
    )
    assert any(line.startswith("error: levels[1].level: unknown disc level") for line in lines)


def test_an_infinite_onset_pressure_is_refused_and_nothing_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Printed, Infinity would be no JSON (RFC 8259) and ΔP infinite would read as negative.
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        '"onset_pressure_psi": 18', '"onset_pressure_psi": Infinity'
    )
    code, out, err = run(capsys, str(write(tmp_path, "study.json", text)))
    assert (code, out) == (2, "")
    assert err == "error: levels[1].onset_pressure_psi: must be a finite number (got Infinity)\n"


def test_an_infinite_site_threshold_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (rule_sets_dir() / "lumbar-manometric.json").read_text(encoding="utf-8")
    site = json.loads(text)
    site["thresholds"]["positive_delta_p_psi"]["value"] = float("inf")
    path = write(tmp_path, "site.json", json.dumps(site))  # json.dumps writes Infinity
    code, out, err = run(capsys, str(EXAMPLE), "--rule-set-file", str(path))
    assert (code, out) == (2, "")
    assert err == (
        f"error: {path}: thresholds.positive_delta_p_psi.value: must be a finite number "
        "(got Infinity)\n"
    )


def test_not_json_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(write(tmp_path, "study.json", "{levels: [}")))
    assert (code, out) == (2, "")
    assert err.startswith("error: not valid JSON at line 1")


def test_an_unknown_forced_rule_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    study = json.loads(EXAMPLE.read_text("utf-8")) | {"rule_set": "lumbar-strict"}
    code, out, err = run(capsys, str(write(tmp_path, "study.json", study)))
    assert (code, out) == (2, "")
    assert err.startswith("error: rule_set: unknown rule set 'lumbar-strict'; known rule sets: ")


def test_an_invalid_site_rule_set_names_the_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = json.loads((mappings_dir() / "rule-sets" / "lumbar-manometric.json").read_text("utf-8"))
    site["thresholds"]["pain_intensity"]["value"] = 11
    path = write(tmp_path, "site.json", site)
    code, out, err = run(capsys, str(EXAMPLE), "--rule-set-file", str(path))
    assert (code, out) == (2, "")
    assert err == f"error: {path}: thresholds.pain_intensity.value: must be at most 10 (got 11)\n"


def test_a_site_rule_set_that_is_not_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "site.json", "not json")
    code, out, err = run(capsys, str(EXAMPLE), "--rule-set-file", str(path))
    assert (code, out) == (2, "")
    assert err.startswith(f"error: rule-set file {path} is not valid JSON at line 1 column 1")
