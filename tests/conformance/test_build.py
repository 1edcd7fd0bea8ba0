import json
from pathlib import Path

import pytest

from plugin.conformance.build import generated_files, main, resource_file_name, stale_files
from plugin.resources import conformance_dir
from plugin.terminology import PRODUCT_CODE_SYSTEMS


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return generated_files()


def test_committed_files_equal_the_generated_ones(files: dict[str, str]) -> None:
    stale = stale_files(conformance_dir(), files)
    assert stale == [], (
        f"conformance/ is out of date ({', '.join(stale)}): "
        "run .venv/bin/python -m plugin.conformance.build"
    )


def test_every_resource_is_named_by_type_and_id(files: dict[str, str]) -> None:
    for name, text in files.items():
        if name.endswith(".json"):
            resource = json.loads(text)
            assert name.rsplit("/", 1)[-1] == resource_file_name(resource)


def test_the_package_holds_what_the_issue_asks_for(files: dict[str, str]) -> None:
    kinds = [json.loads(t)["resourceType"] for n, t in files.items() if n.endswith(".json")]
    top = [n for n in files if "/" not in n and n.endswith(".json")]
    # five profiles and the candidacy extension; one CodeSystem per product code system
    assert sum(1 for n in top if n.startswith("StructureDefinition-")) == 6
    assert sum(1 for n in top if n.startswith("CodeSystem-")) == len(PRODUCT_CODE_SYSTEMS)
    assert sum(1 for n in top if n.startswith("ValueSet-")) >= 12  # one per CodeSystem + components
    assert sum(1 for n in top if n.startswith("CapabilityStatement-")) == 1
    assert kinds.count("Bundle") == 1
    assert "README.md" in files


def test_check_reports_a_stale_folder_without_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ValueSet-retired.json").write_text("{}", encoding="utf-8")
    assert main(["--check", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "StructureDefinition-discography-procedure.json" in err
    assert "ValueSet-retired.json" in err
    assert [p.name for p in tmp_path.iterdir()] == ["ValueSet-retired.json"]


def test_build_writes_every_file_and_removes_retired_ones(
    tmp_path: Path, files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ValueSet-retired.json").write_text("{}", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("kept", encoding="utf-8")  # not a generated kind
    assert main(["--dir", str(tmp_path)]) == 0
    assert not (tmp_path / "ValueSet-retired.json").exists()
    assert (tmp_path / "notes.txt").exists()
    assert stale_files(tmp_path, files) == []
    assert main(["--check", "--dir", str(tmp_path)]) == 0
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    for name in files:
        if name != "README.md":
            assert name in readme, f"README does not list {name}"


def test_changed_renderings_do_not_make_an_example_stale(
    tmp_path: Path, files: dict[str, str]
) -> None:
    main(["--dir", str(tmp_path)])
    name = next(n for n in files if n.startswith("examples/DocumentReference-"))
    document = json.loads(files[name])
    document["content"][0]["attachment"]["data"] = "JVBERi0xLjcK"  # another PDF
    (tmp_path / name).write_text(json.dumps(document), encoding="utf-8")
    assert stale_files(tmp_path, files) == []
    document["status"] = "superseded"  # but a FHIR change does
    (tmp_path / name).write_text(json.dumps(document), encoding="utf-8")
    assert stale_files(tmp_path, files) == [name]
