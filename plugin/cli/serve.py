"""`discogram serve`: run the SMART app alone, against the EHRs registered in the settings."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import re
import socket
import tomllib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import SettingsError
from sqlalchemy.exc import DBAPIError

from plugin.candidacy.policy_file import load_policy
from plugin.cli import CliError
from plugin.errors import ConfigurationError, InputProblemError
from plugin.interpretation.rule_set import load_rule_set
from smart_app.app import create_app
from smart_app.keys import load_client_key
from smart_app.library_logs import quiet_library_logs
from smart_app.security import frame_ancestor_origins
from smart_app.services import registration_problems
from smart_app.settings import Settings, load_settings
from smart_app.store.database import Database, DatabaseUnreachableError, check_connection
from smart_app.store.private_files import ensure_private_folder
from smart_app.token_encryption import TokenCipher, secret_key_path

__all__ = [
    "PRODUCT_LOGGERS",
    "add_parser",
    "configure_logging",
    "port_problem",
    "run_server",
]

#: The loggers the configured `log_level` applies to: the product's own (whose messages are
#: written to hold no tokens or patient identifiers) and alembic's migration progress.
PRODUCT_LOGGERS = ("plugin", "smart_app", "alembic")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the SMART app (EHR launch at /launch, JWK Set at /.well-known/jwks.json)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="TOML settings file (default: $DISCOGRAM_CONFIG, else built-in defaults)",
    )
    parser.set_defaults(handler=_run)


#: Pydantic's wording, where it names a Python type, in the configuration file's terms.
_PLAIN_MESSAGES = {
    "path_type": "must be a path (a string)",
    "bool_type": "must be true or false (a TOML boolean, not a string)",
}


_BAD_CONFIGURATION = "discogram serve: bad configuration: "


def _problem_lines(error: ErrorDetails) -> list[str]:
    where = ".".join(str(part) for part in error["loc"])
    message = _PLAIN_MESSAGES.get(error["type"], error["msg"]).removeprefix("Value error, ")
    # Checks across several keys have no location of their own: their message names the keys,
    # one problem a line.
    return [
        f"{_BAD_CONFIGURATION}{where + ': ' if where else ''}{line}"
        for line in message.splitlines()
    ]


def _settings_error(exc: ValidationError) -> CliError:
    """One line per problem, each naming its key and the rule it breaks."""
    return CliError("\n".join(line for error in exc.errors() for line in _problem_lines(error)))


def _environment_error(exc: SettingsError) -> CliError:
    # pydantic-settings names the field only in its message: 'error parsing value for field
    # "ehr" from source "EnvSettingsSource"'.
    field = re.search(r'field "([^"]+)"', str(exc))
    if field is None:
        return CliError(f"discogram serve: bad configuration: {exc}")
    return CliError(
        f"discogram serve: bad configuration: environment variable "
        f"DISCOGRAM_{field[1].upper()}: not valid JSON (lists and tables are given as JSON)"
    )


def _secret_key_folder_problem(settings: Settings) -> str | None:
    # A new key is generated only where it is expected: a mistyped secret_key_file must not
    # silently create folders and a fresh key (tokens encrypted with the real one would then be
    # unreadable). One under data_dir (the default) is created on first run: data_dir is
    # created before this check.
    path = settings.secret_key_file
    if path is not None and not path.exists() and not path.parent.is_dir():
        return (
            f"secret_key_file: folder {path.parent} does not exist; create it or correct the "
            "path (a new key file is created only in an existing folder)"
        )
    return None


def _named(setting: str, message: str) -> str:
    """`setting: problem`, from a message that may begin with the setting's name already
    ("private_key_file /x: cannot be read")."""
    leaf = setting.rsplit(".", 1)[-1]
    return f"{setting}: {message.removeprefix(leaf + ' ')}"


def _problems_of(
    setting: str, check: Callable[[], object], *, file: Path | None = None
) -> list[str]:
    """The problems `check` raises, one line each, naming `setting` ('' when the messages name
    their settings themselves) and, for problems within a data file, the `file`."""
    try:
        check()
    except InputProblemError as exc:
        lines = [str(problem) for problem in exc.problems]
        if file is not None:
            lines = [line if str(file) in line else f"{file}: {line}" for line in lines]
        return [_named(setting, line) for line in lines]
    except ConfigurationError as exc:
        lines = str(exc).splitlines()
        return [_named(setting, line) if setting else line for line in lines]
    return []


def _file_problems(settings: Settings) -> list[str]:
    """Everything the settings name that is checked by reading it, every problem found (not the
    first): key files, registrations, frame origins, rule sets, the policy, and then — only
    when those are sound, so that a failed start leaves nothing behind — the data folder and
    the secret key file, which are created when missing."""
    problems: list[str] = []
    for index, registration in enumerate(settings.ehr):
        for name in ("private_key_file", "next_private_key_file"):
            path = getattr(registration, name)
            if path is not None:
                problems += _problems_of(f"ehr.{index}.{name}", partial(load_client_key, path))
    problems += registration_problems(settings)
    problems += _problems_of("", lambda: frame_ancestor_origins(settings))
    for index, path in enumerate(settings.rule_set_files):
        problems += _problems_of(f"rule_set_files.{index}", partial(load_rule_set, path), file=path)
    if settings.candidacy_policy_file is not None:
        policy_file = settings.candidacy_policy_file
        problems += _problems_of(
            "candidacy_policy_file", lambda: load_policy(policy_file), file=policy_file
        )
    if problems:
        return problems
    problems = _problems_of(
        "data_dir", lambda: ensure_private_folder(settings.data_dir, "data_dir")
    )
    if not problems:  # a default key file lives in data_dir
        folder = _secret_key_folder_problem(settings)
        if folder is not None:
            problems.append(folder)
        else:
            key_file = secret_key_path(settings)
            problems += _problems_of("secret_key_file", lambda: TokenCipher.from_key_file(key_file))
    return problems


async def _connect_and_migrate(url: str) -> None:
    await check_connection(url)
    database = Database(url)
    try:
        await database.ready()
    finally:
        await database.dispose()


def _prepare_database(url: str) -> None:
    """Connect and migrate before serving, so a database that is down or refuses the login is
    one line here rather than a traceback from the server's start-up (the server's own
    migration then finds the schema current)."""
    try:
        asyncio.run(_connect_and_migrate(url))
    except DatabaseUnreachableError as exc:
        raise CliError(f"discogram serve: database_url: cannot connect ({exc.reason})") from None
    except DBAPIError as exc:
        # Connected, but the tables could not be made (e.g. no right to create them). The
        # driver's message, which never holds the URL's password.
        raise CliError(
            f"discogram serve: database_url: cannot bring the database up to date ({exc.orig})"
        ) from None


def port_problem(host: str, port: int) -> str | None:
    """Why `host`:`port` cannot be listened on now, or None. Binds as uvicorn will (IPv6 for a
    host with a colon, SO_REUSEADDR) and lets go at once."""
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"{shown} is already in use; stop the program listening there or "
                    "choose another --port"
                )
            return f"cannot listen on {shown} ({exc.strerror or exc})"
    return None


def configure_logging(level: str) -> None:
    """Log the product at `level` and everything else at WARNING (`debug` must not turn on
    third-party debug logs, which carry patient data and tokens)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in PRODUCT_LOGGERS:
        logging.getLogger(name).setLevel(level.upper())
    quiet_library_logs(unless_configured=False)


def run_server(app: Any, *, host: str, port: int, log_level: str) -> None:
    """Serve `app` with uvicorn; its access log is off (it would log query strings)."""
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)


def _run(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise CliError(f"discogram serve: --port must be 1–65535 (got {args.port})")
    try:
        settings = load_settings(args.config)
    except ValidationError as exc:
        raise _settings_error(exc) from None
    except SettingsError as exc:
        raise _environment_error(exc) from None
    except tomllib.TOMLDecodeError as exc:
        raise CliError(f"discogram serve: configuration file is not valid TOML: {exc}") from None
    # Before anything else, so the start-up messages (a new key file, a file open to other
    # users) are seen.
    configure_logging(settings.log_level)
    # Before anything is created (data_dir, a new key file): a second start on a busy port
    # must leave no trace.
    problem = port_problem(args.host, args.port)
    if problem is not None:
        raise CliError(f"discogram serve: {problem}")
    problems = _file_problems(settings)
    if problems:
        raise CliError("\n".join(_BAD_CONFIGURATION + line for line in problems))
    try:
        app = create_app(settings)
    except (ConfigurationError, InputProblemError) as exc:  # anything the checks above missed
        raise CliError(f"{_BAD_CONFIGURATION}{exc}") from None
    _prepare_database(settings.database_url)
    run_server(app, host=args.host, port=args.port, log_level=settings.log_level)
    return 0
