import base64
import json
import os
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import plugin.cli
import plugin.cli.report
from plugin.cli import CliError, main
from plugin.cli.report import write_files_atomically
from plugin.interpretation.rule_set import rule_sets_dir

EXAMPLE = Path(plugin.cli.__file__).parent.parent / "examples" / "lumbar-three-level.json"
ISSUED = datetime(2026, 11, 20, 16, 5, 0, tzinfo=timezone(timedelta(hours=-5)))


@pytest.fixture(autouse=True)
def only_the_report_command(monkeypatch: pytest.MonkeyPatch) -> None:
    # Exercise `main` (argument parsing, exit codes, error printing) with this command alone,
    # so these tests do not depend on the other sub-commands.
    monkeypatch.setattr(plugin.cli, "_COMMANDS", ("report",))
    monkeypatch.setattr(plugin.cli.report, "_now", lambda: ISSUED)


def example(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    return data


def write_study(folder: Path, data: dict[str, Any]) -> Path:
    path = folder / "study.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_writes_bundle_html_and_pdf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "var" / "nested" / "bundle.json"  # folders are created
    html, pdf = tmp_path / "report.html", tmp_path / "report.pdf"
    code = main(["report", str(EXAMPLE), "--out", str(out), "--html", str(html), "--pdf", str(pdf)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    text = out.read_text(encoding="utf-8")
    assert text.startswith('{\n  "resourceType": "Bundle"')  # indent 2
    assert text.endswith("}\n")
    bundle = json.loads(text)
    assert bundle["type"] == "transaction"
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert kinds == [
        "Procedure",
        "Observation",
        "Observation",
        "Observation",
        "DiagnosticReport",
        "DocumentReference",
        "Provenance",
    ]
    report = bundle["entry"][4]["resource"]
    assert report["issued"] == "2026-11-20T16:05:00-05:00"
    assert report["conclusion"].startswith("Discogenic level identified: L4-L5 (definite).")
    presented_html, presented_pdf = report["presentedForm"]
    assert base64.b64decode(presented_html["data"]) == html.read_bytes()
    assert base64.b64decode(presented_pdf["data"]) == pdf.read_bytes()
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert html.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html>")
    assert str(out) in captured.out and "7 resources" in captured.out
    assert str(html) in captured.out and str(pdf) in captured.out
    # the example is clean: no warnings
    assert captured.err == ""
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_files_are_private_to_their_owner(tmp_path: Path) -> None:
    out = tmp_path / "bundle.json"
    assert main(["report", str(EXAMPLE), "--out", str(out)]) == 0
    assert stat.S_IMODE(os.stat(out).st_mode) & 0o077 == 0


def test_document_type_option(tmp_path: Path) -> None:
    out = tmp_path / "bundle.json"
    assert main(["report", str(EXAMPLE), "--out", str(out), "--document-type", "34121-4"]) == 0
    document = json.loads(out.read_text(encoding="utf-8"))["entry"][5]["resource"]
    assert document["type"]["coding"] == [{"system": "http://loinc.org", "code": "34121-4"}]


def test_unknown_document_type_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bundle.json"
    code = main(["report", str(EXAMPLE), "--out", str(out), "--document-type", "28570-0"])
    captured = capsys.readouterr()
    assert code == 2
    assert "--document-type" in captured.err and "28570-0" in captured.err
    assert captured.out == ""
    assert not out.exists()


def test_missing_out_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(EXAMPLE)]) == 2
    captured = capsys.readouterr()
    assert "--out" in captured.err
    assert captured.out == ""


def test_missing_patient_fails_cleanly_and_keeps_the_old_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = write_study(tmp_path, example(patient=None))
    out = tmp_path / "bundle.json"
    out.write_text("previous bundle", encoding="utf-8")
    html = tmp_path / "report.html"
    code = main(["report", str(study), "--out", str(out), "--html", str(html)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert "error: patient: the patient is required to file a report" in captured.err
    assert "Traceback" not in captured.err
    assert out.read_text(encoding="utf-8") == "previous bundle"
    assert not html.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.json", "study.json"]


def test_invalid_study_lists_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = example()
    data["levels"][1]["pain_intensity"] = 12
    data["levels"][2]["level"] = "L9-L10"
    study = write_study(tmp_path, data)
    out = tmp_path / "bundle.json"
    assert main(["report", str(study), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert "levels[1].pain_intensity" in captured.err
    assert "levels[2].level" in captured.err
    assert captured.out == ""
    assert not out.exists()


@pytest.mark.parametrize(
    ("peak", "message"),
    [
        ("Infinity", "must be a finite number (got Infinity)"),
        ("1e308", "must be at most 500 psi (got 1e+308): more than a discography manometer reads"),
    ],
)
def test_an_infinite_or_absurd_pressure_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], peak: str, message: str
) -> None:
    text = json.dumps(example()).replace('"peak_pressure_psi": 95', f'"peak_pressure_psi": {peak}')
    study = tmp_path / "study.json"
    study.write_text(text, encoding="utf-8")
    out = tmp_path / "bundle.json"
    assert main(["report", str(study), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines()[0].startswith(f"error: levels[0].peak_pressure_psi: {message}")
    assert len(captured.err.splitlines()) == 1
    assert captured.out == ""
    assert not out.exists()


def test_unreadable_or_non_json_study(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bundle.json"
    assert main(["report", str(tmp_path / "absent.json"), "--out", str(out)]) == 2
    assert "cannot read study file" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    assert main(["report", str(broken), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert "not valid JSON at line 1" in captured.err
    assert captured.out == ""
    assert not out.exists()


def test_warnings_go_to_stderr_and_the_bundle_is_still_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = example()
    for level in data["levels"]:
        level["role"] = "suspected"  # no control level: a warning, not an error
    study = write_study(tmp_path, data)
    out = tmp_path / "bundle.json"
    assert main(["report", str(study), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "warning: levels: no level is marked as a control" in captured.err
    assert "warning:" not in captured.out
    assert json.loads(out.read_text(encoding="utf-8"))["type"] == "transaction"


def test_the_same_file_twice_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["report", str(EXAMPLE), "--out", str(out), "--pdf", str(out)]) == 2
    assert "--pdf" in capsys.readouterr().err
    assert main(["report", str(EXAMPLE), "--out", str(EXAMPLE)]) == 2
    assert "the study file" in capsys.readouterr().err
    assert not out.exists()


def test_site_rule_set_file_is_used_and_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = json.loads((rule_sets_dir() / "lumbar-manometric.json").read_text(encoding="utf-8"))
    site["version"] = "1.1.0-site"
    site_file = tmp_path / "site-lumbar.json"
    site_file.write_text(json.dumps(site), encoding="utf-8")
    out = tmp_path / "bundle.json"
    args = ["report", str(EXAMPLE), "--out", str(out), "--rule-set-file", str(site_file)]
    assert main(args) == 0
    report = json.loads(out.read_text(encoding="utf-8"))["entry"][4]["resource"]
    assert "lumbar-manometric version 1.1.0-site" in report["conclusion"]
    capsys.readouterr()

    site["version"] = "one"
    site_file.write_text(json.dumps(site), encoding="utf-8")
    out.unlink()
    assert main(args) == 2
    captured = capsys.readouterr()
    assert f"{site_file}: version" in captured.err
    assert captured.out == ""
    assert not out.exists()


def test_a_rule_set_file_that_is_not_an_object_is_named_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site_file = tmp_path / "list.json"
    site_file.write_text("[]", encoding="utf-8")
    out = tmp_path / "bundle.json"
    assert main(["report", str(EXAMPLE), "--out", str(out), "--rule-set-file", str(site_file)]) == 2
    assert capsys.readouterr().err == f"error: {site_file}: a rule set must be a JSON object\n"


def test_write_failure_is_reported_and_leaves_nothing_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    out = tmp_path / "bundle.json"
    code = main(["report", str(EXAMPLE), "--out", str(out), "--pdf", str(blocker / "r.pdf")])
    captured = capsys.readouterr()
    assert code == 2
    assert "cannot write" in captured.err and "r.pdf" in captured.err
    assert captured.out == ""
    assert not out.exists()  # the bundle was staged but not put in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-folder"]


def test_write_files_atomically_replaces_all_or_nothing(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.pdf"
    first.write_bytes(b"old a")
    write_files_atomically({first: b"new a", second: b"new b"})
    assert (first.read_bytes(), second.read_bytes()) == (b"new a", b"new b")

    impossible = tmp_path / "b.pdf" / "child"  # a file cannot hold a folder
    with pytest.raises(CliError, match="cannot write"):
        write_files_atomically({first: b"newer a", impossible: b"x"})
    assert first.read_bytes() == b"new a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.pdf"]
