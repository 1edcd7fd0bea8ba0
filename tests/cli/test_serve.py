import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

import plugin.cli
from plugin.cli import main
from plugin.cli.serve import PRODUCT_LOGGERS
from smart_app.library_logs import QUIET_LIBRARY_LOGGERS
from smart_app.scopes import LaunchKind
from smart_app.store import LaunchRecord


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """The logger levels `discogram serve` sets, restored afterwards."""
    names = ("", *PRODUCT_LOGGERS, *QUIET_LIBRARY_LOGGERS)
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, restored_logging: None) -> list[dict[str, Any]]:
    monkeypatch.setattr(plugin.cli, "_COMMANDS", ("serve",))
    monkeypatch.delenv("DISCOGRAM_CONFIG", raising=False)
    calls: list[dict[str, Any]] = []

    def fake_run(app: Any, **kwargs: Any) -> None:
        calls.append({"app": app, **kwargs})

    monkeypatch.setattr("plugin.cli.serve.run_server", fake_run)
    return calls


PKJWT_EHR = """
[[ehr]]
name = "E"
iss = "https://e/fhir"
client_id = "c"
client_auth = "private_key_jwt"
"""


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "discogram.toml"
    path.write_text(body)
    return path


def test_serve_builds_the_app_from_the_config_and_runs_it(
    served: list[dict[str, Any]], tmp_path: Path
) -> None:
    config = write_config(
        tmp_path,
        f'''
public_url = "http://127.0.0.1:9000"
data_dir = "{tmp_path / "data"}"

[[ehr]]
name = "Test EHR"
iss = "https://ehr.example.org/fhir"
client_id = "app"
''',
    )
    code = main(["serve", "--host", "0.0.0.0", "--port", "9000", "--config", str(config)])
    assert code == 0
    (call,) = served
    assert isinstance(call["app"], FastAPI)
    assert call["host"] == "0.0.0.0" and call["port"] == 9000 and call["log_level"] == "info"
    settings = call["app"].state.smart.settings
    assert settings.ehr[0].name == "Test EHR"
    assert settings.database_url.endswith(f"{tmp_path / 'data'}/discogram.sqlite3")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('public_url = "x"\n', "bad configuration: public_url"),
        ("public_url = \n", "not valid TOML"),
        ("unknown_key = 1\n", "bad configuration: unknown_key"),
        (PKJWT_EHR, "needs private_key_file"),
        (
            PKJWT_EHR + 'private_key_file = "/nonexistent/key.pem"\n',
            "private_key_file /nonexistent/key.pem",
        ),
    ],
)
def test_bad_configuration_is_one_line_on_stderr_and_exit_2(
    served: list[dict[str, Any]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    body: str,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # the default data_dir "var" lands here
    config = write_config(tmp_path, body)
    assert main(["serve", "--config", str(config)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert message in captured.err
    assert served == []


def test_missing_config_file_and_bad_port(
    served: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--config", str(tmp_path / "none.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["serve", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err
    assert main(["serve", "--port", "abc"]) == 2
    assert served == []


async def test_debug_logging_keeps_database_parameters_out_of_the_log(
    served: list[dict[str, Any]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(
        tmp_path,
        f'''
public_url = "http://127.0.0.1:9000"
data_dir = "{tmp_path / "data"}"
log_level = "debug"

[[ehr]]
name = "Test EHR"
iss = "https://ehr.example.org/fhir"
client_id = "app"
''',
    )
    # As in a fresh process: no root handler (pytest's own would make basicConfig a no-op).
    root = logging.getLogger()
    pytest_handlers = root.handlers[:]
    root.handlers.clear()
    marker = "https://marker-patient-doe.example/fhir"  # stands in for a patient's data
    try:
        assert main(["serve", "--config", str(config)]) == 0
        services = served[0]["app"].state.smart
        await services.launch_records.save(
            LaunchRecord(
                state="s",
                iss=marker,
                kind=LaunchKind.EHR,
                launch="l",
                code_verifier="v" * 43,
                scopes=("launch",),
                created_at=1.0,
                browser_binding="b",
            )
        )
        await services.aclose()
        logging.getLogger("smart_app.launch").debug("the product's own debug line")
    finally:
        for handler in root.handlers:  # the one basicConfig added
            handler.close()
        root.handlers[:] = pytest_handlers
    logged = capsys.readouterr().err
    assert "the product's own debug line" in logged  # debug is on for the product
    assert marker not in logged
    for name in QUIET_LIBRARY_LOGGERS:
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING
