import asyncio
import json
import logging
import os
import socket
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

import plugin.cli
from plugin.candidacy.policy_file import policy_path
from plugin.cli import main
from plugin.cli.serve import PRODUCT_LOGGERS, port_problem
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
    # Whatever else listens on this machine; a busy port has a test of its own.
    monkeypatch.setattr("plugin.cli.serve.port_problem", lambda host, port: None)
    return calls


@contextmanager
def fresh_root_logger() -> Iterator[None]:
    """As in a fresh process: no root handler (pytest's own, added when the test body starts,
    would make basicConfig a no-op)."""
    root = logging.getLogger()
    pytest_handlers = root.handlers[:]
    root.handlers.clear()
    try:
        yield
    finally:
        for handler in root.handlers:  # the one basicConfig added
            handler.close()
        root.handlers[:] = pytest_handlers


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
            "bad configuration: ehr.0.private_key_file: /nonexistent/key.pem: cannot be read",
        ),
        ('database_url = "not a url"\n', "bad configuration: database_url: not a database URL"),
        ('database_url = "mysql://x@y/z"\n', "database_url: must be SQLite or PostgreSQL"),
        ("data_dir = 5\n", "bad configuration: data_dir: must be a path (a string)"),
        (f'secret_key_file = "{Path(__file__).parent}"\n', "secret_key_file: "),
        (
            'secret_key_file = "missing/dir/secret.key"\n',
            "secret_key_file: folder missing/dir does not exist",
        ),
        (
            '[[cds_client]]\niss = "https://e"\njwks_file = "/nonexistent/jwks.json"\n',
            "cds_client.0.jwks_file: /nonexistent/jwks.json cannot be read",
        ),
        (
            '[[cds_client]]\niss = "https://e"\njwks_url = "http://e.example/jwks"\n',
            "cds_client.0.jwks_url: must use https",
        ),
        (
            '[[ehr]]\nname = "E"\niss = "https://e/fhir"\nclient_id = "c"\ndocument_pdf = "yes"\n',
            "ehr.0.document_pdf: must be true or false (a TOML boolean, not a string)",
        ),
        (
            '[[ehr]]\nname = "E"\niss = "https://e/fhir"\nclient_id = "c"\nclient_secret = "s"\n',
            "ehr.0: ehr 'E': client_secret is used only with client_auth client_secret_basic",
        ),
        ('data_dir = "discogram.toml"\n', "data_dir: discogram.toml: exists and is not a folder"),
        (
            'database_url = "sqlite+aiosqlite://"\n',
            "bad configuration: database_url: must not be an in-memory SQLite database",
        ),
        (
            'public_url = "https://x.example/discography"\n',
            "bad configuration: public_url: must not have a path",
        ),
        (
            'public_url = "https://x.example"\n[[ehr]]\nname = "E"\niss = "https://e/fhir"\n'
            'client_id = "c"\nframe_origins = ["http://portal.example"]\n',
            "bad configuration: ehr.0.frame_origins.0: must use https",
        ),
        (
            '[[ehr]]\nname = "E"\niss = "https://e/fhir"\nclient_id = "c"\nframe_origins = ["*"]\n',
            "bad configuration: ehr.0.frame_origins.0: '*' must be an origin",
        ),
        (
            'candidacy_policy_file = "discogram.toml"\n',
            "bad configuration: candidacy_policy_file: policy file discogram.toml is not valid",
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
    assert "Traceback" not in captured.err and "Value error" not in captured.err
    assert served == []
    assert not (tmp_path / "missing").exists()


def test_each_configuration_problem_is_a_line_of_its_own(
    served: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, 'public_url = "x"\nlog_level = "loud"\ndata_dir = 5\n')
    assert main(["serve", "--config", str(config)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3
    assert [line.split(": ")[2] for line in lines] == ["public_url", "data_dir", "log_level"]
    assert all(line.startswith("discogram serve: bad configuration: ") for line in lines)
    assert not any("more)" in line for line in lines)


def test_a_list_in_the_environment_that_is_not_json_is_one_line_naming_the_variable(
    served: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISCOGRAM_EHR", "not json")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "discogram serve: bad configuration: environment variable DISCOGRAM_EHR: not valid "
        "JSON (lists and tables are given as JSON)\n"
    )
    assert served == []


def test_a_busy_port_is_refused_before_serving(
    served: list[dict[str, Any]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("plugin.cli.serve.port_problem", port_problem)
    config = write_config(tmp_path, f'data_dir = "{tmp_path / "data"}"\n')
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        code = main(["serve", "--port", str(port), "--config", str(config)])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err == (
        f"discogram serve: 127.0.0.1:{port} is already in use; stop the program listening "
        "there or choose another --port\n"
    )
    assert served == []
    assert not (tmp_path / "data").exists()  # nothing created: no folder, no new key
    assert port_problem("127.0.0.1", port) is None  # free again


def test_the_data_dir_is_created_for_the_service_account_only(
    served: list[dict[str, Any]], tmp_path: Path
) -> None:
    saved = os.umask(0o022)
    try:
        config = write_config(tmp_path, f'data_dir = "{tmp_path / "var"}"\n')
        assert main(["serve", "--config", str(config)]) == 0
    finally:
        os.umask(saved)
    assert stat.S_IMODE((tmp_path / "var").stat().st_mode) == 0o700


def test_start_up_messages_are_logged_with_their_level_and_logger(
    served: list[dict[str, Any]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Logging is configured before the app is built: what building it says is not lost.
    key_file = tmp_path / "secret.key"
    config = write_config(tmp_path, f'data_dir = "{tmp_path / "data"}"\n')
    with fresh_root_logger():
        assert main(["serve", "--config", str(config)]) == 0
    err = capsys.readouterr().err
    default_key = tmp_path / "data" / "secret.key"
    assert f"INFO smart_app.token_encryption: created a new secret key file {default_key}" in err
    assert default_key.read_bytes().strip() not in err.encode()  # never the key itself
    key_file.write_bytes(default_key.read_bytes())
    key_file.chmod(0o644)
    config = write_config(
        tmp_path, f'data_dir = "{tmp_path / "data"}"\nsecret_key_file = "{key_file}"\n'
    )
    with fresh_root_logger():
        assert main(["serve", "--config", str(config)]) == 0
    err = capsys.readouterr().err
    assert f"WARNING smart_app.token_encryption: secret key file {key_file} is readable" in err


def test_an_explicit_secret_key_file_is_created_only_in_an_existing_folder(
    served: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "etc" / "discogrma" / "secret.key"
    config = write_config(
        tmp_path, f'data_dir = "{tmp_path / "data"}"\nsecret_key_file = "{typo}"\n'
    )
    assert main(["serve", "--config", str(config)]) == 2
    assert capsys.readouterr().err == (
        f"discogram serve: bad configuration: secret_key_file: folder {typo.parent} does not "
        "exist; create it or correct the path (a new key file is created only in an existing "
        "folder)\n"
    )
    assert not (tmp_path / "etc").exists() and served == []
    (tmp_path / "etc" / "discogrma").mkdir(parents=True)
    assert main(["serve", "--config", str(config)]) == 0
    assert typo.is_file()


def test_an_explicit_secret_key_file_in_a_data_dir_not_yet_created_is_made_on_first_start(
    served: list[dict[str, Any]], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    key_file = data / "keys" / "secret.key"
    config = write_config(tmp_path, f'data_dir = "{data}"\nsecret_key_file = "{data}/secret.key"\n')
    assert main(["serve", "--config", str(config)]) == 0
    assert (data / "secret.key").is_file() and len(served) == 1
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    # A folder under data_dir that does not exist is still a typo to report.
    config = write_config(tmp_path, f'data_dir = "{data}"\nsecret_key_file = "{key_file}"\n')
    assert main(["serve", "--config", str(config)]) == 2
    assert not key_file.parent.exists() and len(served) == 1


def test_missing_config_file_and_bad_port(
    served: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--config", str(tmp_path / "none.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["serve", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err
    assert main(["serve", "--port", "abc"]) == 2
    assert served == []


def test_debug_logging_keeps_database_parameters_out_of_the_log(
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
    marker = "https://marker-patient-doe.example/fhir"  # stands in for a patient's data

    async def save_a_launch(services: Any) -> None:
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

    # A plain test: `serve` runs its own event loop (connecting before it serves).
    with fresh_root_logger():
        assert main(["serve", "--config", str(config)]) == 0
        asyncio.run(save_a_launch(served[0]["app"].state.smart))
        logging.getLogger("smart_app.launch").debug("the product's own debug line")
    logged = capsys.readouterr().err
    assert "the product's own debug line" in logged  # debug is on for the product
    assert marker not in logged
    for name in QUIET_LIBRARY_LOGGERS:
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING


def test_an_unreachable_database_is_one_line_without_the_password(
    served: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"postgresql+asyncpg://discogram:s3cret-pw@127.0.0.1:{port}/discogram"
    config = write_config(tmp_path, f'data_dir = "{tmp_path / "data"}"\ndatabase_url = "{url}"\n')
    assert main(["serve", "--config", str(config)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and served == []
    assert captured.err.startswith("discogram serve: database_url: cannot connect (")
    assert len(captured.err.splitlines()) == 1
    assert "s3cret-pw" not in captured.err and "Traceback" not in captured.err


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_refused_database_login_is_one_line_without_the_password(
    served: list[dict[str, Any]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    database_url: str,
) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(database_url).set(username="nobody_here", password="s3cret-pw")
    rendered = url.render_as_string(hide_password=False)
    config = write_config(
        tmp_path, f'data_dir = "{tmp_path / "data"}"\ndatabase_url = "{rendered}"\n'
    )
    assert main(["serve", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err == (
        'discogram serve: database_url: cannot connect (role "nobody_here" does not exist)\n'
    )
    assert served == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_serve_migrates_a_postgresql_database_before_serving(
    served: list[dict[str, Any]], tmp_path: Path, database_url: str
) -> None:
    config = write_config(
        tmp_path, f'data_dir = "{tmp_path / "data"}"\ndatabase_url = "{database_url}"\n'
    )
    assert main(["serve", "--config", str(config)]) == 0
    assert len(served) == 1


def test_dangling_symlinks_and_a_key_file_that_is_the_data_dir_are_one_line_each(
    served: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data_link = tmp_path / "data-link"
    data_link.symlink_to(tmp_path / "missing-dir")
    key_link = tmp_path / "secret.key"
    key_link.symlink_to(tmp_path / "missing.key")
    cases = [
        (
            f'data_dir = "{data_link}"\n',
            f"discogram serve: bad configuration: data_dir: {data_link}: is a symbolic link to "
            f"{tmp_path / 'missing-dir'}, which does not exist; create that folder or correct "
            "the path\n",
        ),
        (
            f'data_dir = "{data}"\nsecret_key_file = "{key_link}"\n',
            f"discogram serve: bad configuration: secret_key_file: {key_link}: is a symbolic link "
            f"to {tmp_path / 'missing.key'}, which does not exist; put the key file there or "
            "correct the path\n",
        ),
        (
            f'data_dir = "{tmp_path / "fresh"}"\nsecret_key_file = "{tmp_path / "fresh"}"\n',
            f"discogram serve: bad configuration: secret_key_file: {tmp_path / 'fresh'}: is a "
            f"folder (data_dir itself?); give the key file's path (e.g. "
            f"{tmp_path / 'fresh'}/secret.key)\n",
        ),
    ]
    for body, expected in cases:
        assert main(["serve", "--config", str(write_config(tmp_path, body))]) == 2
        captured = capsys.readouterr()
        assert (captured.out, captured.err) == ("", expected)
    assert served == []


def test_every_problem_in_the_files_the_settings_name_is_a_line_naming_its_setting(
    served: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_json = tmp_path / "not.json"
    not_json.write_text("nope")
    config = write_config(
        tmp_path,
        f'''
public_url = "https://app.example"
data_dir = "{tmp_path / "data"}"
rule_set_files = ["{not_json}", "{tmp_path / "none.json"}"]
candidacy_policy_file = "{not_json}"

[[ehr]]
name = "E"
iss = "http://e.example/fhir"
client_id = "c"
client_auth = "private_key_jwt"
private_key_file = "{tmp_path / "none.pem"}"
frame_origins = ["*"]
''',
    )
    assert main(["serve", "--config", str(config)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert all(line.startswith("discogram serve: bad configuration: ") for line in lines)
    assert [line.split(": ")[2] for line in lines] == [
        "ehr.0.private_key_file",
        "ehr.0.iss",
        "ehr.0.frame_origins.0",
        "rule_set_files.0",
        "rule_set_files.1",
        "candidacy_policy_file",
    ]
    assert served == []
    assert not (tmp_path / "data").exists()  # a failed start leaves nothing behind


def test_a_site_candidacy_policy_is_loaded_at_start(
    served: list[dict[str, Any]], tmp_path: Path
) -> None:
    policy = json.loads(policy_path().read_text(encoding="utf-8"))
    policy["version"] = "1.1.0-site"
    site = tmp_path / "site-policy.json"
    site.write_text(json.dumps(policy), encoding="utf-8")
    config = write_config(
        tmp_path, f'data_dir = "{tmp_path / "data"}"\ncandidacy_policy_file = "{site}"\n'
    )
    assert main(["serve", "--config", str(config)]) == 0
    assert served[0]["app"].state.workflow.policy.version == "1.1.0-site"
