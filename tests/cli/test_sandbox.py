"""`discogram sandbox`: first-run keys, the app registered with the sandbox, one-click launch."""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest

from plugin import cli
from plugin.cli import sandbox as sandbox_command
from plugin.cli.sandbox import SANDBOX_CLIENT_ID, build_sandbox, prepare_sandbox
from plugin.sandbox.asgi import lifespan
from plugin.sandbox.config import ClientAuthMethod
from smart_app.store import Database


def test_first_run_creates_keys_and_later_runs_keep_them(tmp_path: Path) -> None:
    setup = prepare_sandbox(tmp_path, 8123)
    files = {p.name for p in tmp_path.iterdir()}
    assert {"app-signing-key.pem", "app-signing-key-next.pem", "app-secret.key"} <= files
    for name in ("app-signing-key.pem", "app-signing-key-next.pem", "app-secret.key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    first_key = (tmp_path / "app-signing-key.pem").read_bytes()
    assert b"PRIVATE KEY" in first_key
    prepare_sandbox(tmp_path, 8123)
    assert (tmp_path / "app-signing-key.pem").read_bytes() == first_key
    assert setup.config.base_url == "http://127.0.0.1:8123"


def test_the_app_is_registered_as_a_private_key_jwt_client(tmp_path: Path) -> None:
    setup = prepare_sandbox(tmp_path, 8000, host="0.0.0.0")
    (client,) = setup.config.clients
    assert client.client_id == SANDBOX_CLIENT_ID
    assert client.auth_method is ClientAuthMethod.PRIVATE_KEY_JWT
    assert client.jwks_url == "http://127.0.0.1:8000/.well-known/jwks.json"
    assert client.redirect_uris == ["http://127.0.0.1:8000/callback"]
    assert client.launch_url == "http://127.0.0.1:8000/launch"
    (ehr,) = setup.settings.ehr
    assert ehr.iss == "http://127.0.0.1:8000/fhir"
    assert ehr.client_id == SANDBOX_CLIENT_ID
    assert ehr.private_key_file == tmp_path / "app-signing-key.pem"
    assert ehr.next_private_key_file == tmp_path / "app-signing-key-next.pem"
    assert setup.settings.public_url == "http://127.0.0.1:8000"


@pytest.mark.integration
async def test_one_click_on_the_ehr_page_opens_the_app_for_the_patient(tmp_path: Path) -> None:
    setup = prepare_sandbox(tmp_path, 8000)
    app = build_sandbox(setup)
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
            page = await http.get("/ehr")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token is not None
            chart = await http.post(
                "/ehr/launch",
                data={
                    "csrf_token": token[1],
                    "patient": "lumbar-candidate",
                    "user": "spine-proceduralist",
                },
                follow_redirects=True,
            )
            src = re.search(r'<iframe[^>]*src="([^"]+)"', chart.text)
            assert src is not None
            # The iframe's launch: the app redirects to the sandbox's consent screen.
            consent = await http.get(src[1].replace("&amp;", "&"), follow_redirects=True)
            request_id = re.search(r'name="request_id" value="([^"]+)"', consent.text)
            assert request_id is not None, consent.text
            app_page = await http.post(
                "/auth/authorize/consent",
                data={"request_id": request_id[1], "decision": "allow"},
                follow_redirects=True,
            )
    assert app_page.status_code == 200
    # The launch opens an app window of its own: its pages carry the window's handle.
    assert re.fullmatch(
        r"http://127\.0\.0\.1:8000/w/[A-Za-z0-9_-]{22}/app/candidacy", str(app_page.url)
    )
    assert "Lumbar-Candidate" in app_page.text


def test_the_command_runs_uvicorn_without_an_access_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[dict[str, Any]] = []
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    levels: list[str] = []
    monkeypatch.setattr(sandbox_command, "configure_logging", levels.append)
    monkeypatch.setattr(sandbox_command, "port_problem", lambda host, port: None)
    if "sandbox" not in cli._COMMANDS:  # the lead registers it; until then, add it here
        monkeypatch.setattr(cli, "_COMMANDS", (*cli._COMMANDS, "sandbox"))
    code = cli.main(["sandbox", "--port", "8124", "--data-dir", str(tmp_path), "--without-app"])
    assert code == 0
    (call,) = calls
    assert call["host"] == "127.0.0.1" and call["port"] == 8124
    assert call["access_log"] is False
    # The product at INFO, libraries (authlib logs issued tokens at DEBUG) held at WARNING.
    assert levels == ["info"]
    assert "http://127.0.0.1:8124/ehr" in capsys.readouterr().out


def test_a_bad_port_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    sandbox_command.add_parser(parser.add_subparsers())
    args = parser.parse_args(["sandbox", "--port", "70000", "--data-dir", str(tmp_path)])
    assert args.handler(args) == 2
    assert "--port" in capsys.readouterr().err


def run_sandbox(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, list[Any]]:
    """`discogram sandbox ARGS --without-app` through the command line, uvicorn replaced."""
    calls: list[Any] = []
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(app))
    monkeypatch.setattr(sandbox_command, "configure_logging", lambda level: None)
    if "sandbox" not in cli._COMMANDS:
        monkeypatch.setattr(cli, "_COMMANDS", (*cli._COMMANDS, "sandbox"))
    return cli.main(["sandbox", *args, "--without-app"]), calls


def test_a_busy_port_is_refused_before_any_url_is_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        code, calls = run_sandbox(monkeypatch, "--port", str(port), "--data-dir", str(tmp_path))
    captured = capsys.readouterr()
    assert code == 2 and calls == []
    assert captured.out == ""  # no URL leading to the other program
    assert captured.err == (
        f"discogram sandbox: 127.0.0.1:{port} is already in use; stop the program listening "
        "there or choose another --port\n"
    )


def test_a_data_dir_that_is_a_file_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sandbox_command, "port_problem", lambda host, port: None)
    afile = tmp_path / "afile"
    afile.write_text("")
    code, calls = run_sandbox(monkeypatch, "--data-dir", str(afile))
    captured = capsys.readouterr()
    assert code == 2 and calls == [] and captured.out == ""
    assert captured.err == f"error: --data-dir {afile}: exists and is not a folder\n"


async def test_the_data_dir_and_the_app_database_are_the_service_accounts_only(
    tmp_path: Path,
) -> None:
    saved = os.umask(0o022)
    try:
        setup = prepare_sandbox(tmp_path / "var" / "sandbox", 8125)
        database = Database(setup.settings.database_url)
        await database.ready()
        await database.dispose()
    finally:
        os.umask(saved)
    for folder in (tmp_path / "var", tmp_path / "var" / "sandbox"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    app_database = tmp_path / "var" / "sandbox" / "app.sqlite3"
    assert stat.S_IMODE(app_database.stat().st_mode) == 0o600


def test_the_sandbox_is_registered_as_a_cds_client_of_the_app(tmp_path: Path) -> None:
    setup = prepare_sandbox(tmp_path / "sb", 8000)
    (registration,) = setup.settings.cds_client
    cds = setup.config.cds_client
    assert cds is not None
    assert registration.iss == cds.issuer == setup.config.fhir_base
    assert registration.jwks_url is None and registration.jwks_file is not None
    assert cds.services_url == "http://127.0.0.1:8000/cds-services"
    assert stat.S_IMODE(cds.signing_key_file.stat().st_mode) == 0o600
    (jwk,) = json.loads(registration.jwks_file.read_text())["keys"]
    assert (jwk["crv"], jwk["alg"]) == ("P-384", "ES384") and "d" not in jwk
    # A second run keeps the key, so the registered public key still matches it.
    again = prepare_sandbox(tmp_path / "sb", 8000)
    assert again.settings.cds_client[0].jwks_file is not None
    assert json.loads(again.settings.cds_client[0].jwks_file.read_text())["keys"] == [jwk]
