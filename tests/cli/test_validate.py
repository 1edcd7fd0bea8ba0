"""`discogram validate`: the verdict on stdout, exit 0/1; unreadable input on stderr, exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import plugin.cli
from plugin.cli import main
from plugin.cli.validate import NOT_CHECKED
from plugin.resources import conformance_dir

EXAMPLES = conformance_dir() / "examples"
BUNDLE = next(EXAMPLES.glob("Bundle-*.json"))
OBSERVATION = next(EXAMPLES.glob("Observation-*L4-L5.json"))


@pytest.fixture(autouse=True)
def only_the_validate_command(monkeypatch: pytest.MonkeyPatch) -> None:
    # Exercise `main` with this command alone, so these tests do not depend on the others.
    monkeypatch.setattr(plugin.cli, "_COMMANDS", ("validate",))


def run(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, str, str]:
    code = main(["validate", str(path)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write(tmp_path: Path, data: Any, name: str = "resource.json") -> Path:
    path = tmp_path / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_valid_bundle(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, BUNDLE)
    assert (code, err) == (0, "")
    assert out.splitlines() == ["valid: Bundle (8 resources checked)", NOT_CHECKED]


def test_valid_resource(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, OBSERVATION)
    assert (code, err) == (0, "")
    assert out.splitlines() == ["valid: Observation (1 resource checked)", NOT_CHECKED]


def test_problems_one_line_each_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    observation = json.loads(OBSERVATION.read_text(encoding="utf-8"))
    observation["status"] = "preliminary"
    observation["component"][6]["valueQuantity"]["code"] = "psi"
    code, out, err = run(capsys, write(tmp_path, observation))
    assert code == 1 and err == ""
    assert out.splitlines() == [
        "error: Observation.status: code 'preliminary' is not in ValueSet "
        "https://discography-plugin.example/fhir/ValueSet/discography-observation-status "
        "(required binding) [required-binding]",
        'error: Observation.component[6].valueQuantity.code: must be "[psi]" (found "psi") '
        "[fixed-value]",
    ]


@pytest.mark.parametrize(
    "resource",
    [
        {"resourceType": "Observation", "status": "bogus", "code": {"text": "x"}},
        {"resourceType": "Patient", "gender": "robot"},
    ],
)
def test_a_valid_verdict_says_r4_code_lists_are_not_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], resource: dict[str, Any]
) -> None:
    # No R4 value set is available offline: the verdict must not claim more than was checked.
    code, out, _ = run(capsys, write(tmp_path, resource))
    assert code == 0
    assert out.splitlines()[-1] == (
        "note: codes are checked only where a product profile binds them; R4's own required "
        "bindings (such as Patient.gender, Quantity.comparator or a status no product profile "
        "binds) are not checked"
    )


def test_help_says_what_is_and_is_not_checked(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Checked: the R4 structure" in text
    assert "Not checked: codes bound by R4 itself" in text
    assert "R4 base definitions" not in text


def test_information_is_printed_before_the_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    patient = {"resourceType": "Patient", "meta": {"profile": ["http://example.org/p"]}}
    code, out, _ = run(capsys, write(tmp_path, patient))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("information: Patient.meta.profile: profile http://example.org/p")
    assert lines[1:] == ["valid: Patient (1 resource checked)", NOT_CHECKED]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"resourceType": ', "is not valid JSON (line 1 column 18"),
        (b"\xff\xfe{}", "is not UTF-8 text"),
        ("[1, 2]", "is not a FHIR resource (no resourceType)"),
        ('{"id": "x"}', "is not a FHIR resource (no resourceType)"),
        ('{"resourceType": "Foo"}', "is not a FHIR R4 resource ('Foo' is not an R4 resource"),
        ('{"resourceType": "Citation"}', "('Citation' is not an R4 resource type)"),
    ],
)
def test_not_a_fhir_resource_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | bytes, expected: str
) -> None:
    code, out, err = run(capsys, write(tmp_path, content))
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith("discogram validate: ") and expected in err


def test_unreadable_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, tmp_path / "missing.json")
    assert code == 2 and out == ""
    assert err.splitlines() == [
        f"discogram validate: cannot read {tmp_path / 'missing.json'}: No such file or directory"
    ]


def test_usage_error_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert "FILE.json" in captured.err
