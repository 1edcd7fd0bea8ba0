"""`discogram` itself: a closed pipe ends quietly, deep JSON is one line of bad input."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

import plugin.cli.schema
from plugin.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "plugin" / "examples" / "lumbar-three-level.json"
DEEP = "[" * 100_000 + "]" * 100_000


def test_a_reader_that_goes_away_ends_the_command_quietly() -> None:
    # `discogram schema | head -1`: the read end of the pipe is closed before anything is written.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        finished = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from plugin.cli import main; sys.exit(main())",
                "schema",
            ],
            stdout=write_end,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert finished.stderr == b""
    assert finished.returncode == 128 + 13  # as a shell reports a tool ended by SIGPIPE


class _ClosedPipe:
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize(
    "argv", [["schema"], ["interpret", str(EXAMPLE)]], ids=["schema", "interpret"]
)
def test_a_broken_pipe_is_no_traceback(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert main(argv) == 141
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["interpret", "{deep}"],
        ["report", "{deep}", "--out", "{out}"],
        ["interpret", str(EXAMPLE), "--rule-set-file", "{deep}"],
        ["report", str(EXAMPLE), "--out", "{out}", "--rule-set-file", "{deep}"],
        ["validate", "{deep}"],
        ["candidacy", "{deep}"],
        ["candidacy", "{chart}", "--order", "{deep}"],
        ["candidacy", "{chart}", "--policy-file", "{deep}"],
    ],
)
def test_json_nested_too_deeply_is_one_line_naming_the_file(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text(DEEP, encoding="utf-8")
    chart = tmp_path / "chart.json"
    chart.write_text('{"resourceType": "Bundle", "type": "collection"}', encoding="utf-8")
    names = {"deep": str(deep), "out": str(tmp_path / "out.json"), "chart": str(chart)}
    assert main([arg.format(**names) for arg in argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert f"{deep}: JSON nested more than 100 levels deep" in line
    assert not (tmp_path / "out.json").exists()


def test_any_other_recursion_error_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def recurse(args: argparse.Namespace) -> int:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(plugin.cli.schema, "_run", recurse)
    assert main(["schema"]) == 2
    assert capsys.readouterr().err == "error: the input nests too deeply to read\n"
