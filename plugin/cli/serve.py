"""`discogram serve`: run the SMART app alone, against the EHRs registered in the settings."""

from __future__ import annotations

import argparse
import errno
import logging
import re
import socket
import tomllib
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import SettingsError

from plugin.cli import CliError
from smart_app.app import create_app
from smart_app.library_logs import quiet_library_logs
from smart_app.settings import Settings, load_settings
from smart_app.store.private_files import ensure_private_folder

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


def _problem_line(error: ErrorDetails) -> str:
    where = ".".join(str(part) for part in error["loc"])
    message = _PLAIN_MESSAGES.get(error["type"], error["msg"]).removeprefix("Value error, ")
    # Checks across several keys have no location of their own: their message names the keys.
    return f"discogram serve: bad configuration: {where + ': ' if where else ''}{message}"


def _settings_error(exc: ValidationError) -> CliError:
    """One line per problem, each naming its key and the rule it breaks."""
    return CliError("\n".join(_problem_line(error) for error in exc.errors()))


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


def _check_secret_key_folder(settings: Settings) -> None:
    # A new key is generated only where it is expected: a mistyped secret_key_file must not
    # silently create folders and a fresh key (tokens encrypted with the real one would then be
    # unreadable). One under data_dir (the default) is created on first run: data_dir is
    # created before this check.
    path = settings.secret_key_file
    if path is not None and not path.exists() and not path.parent.is_dir():
        raise CliError(
            f"discogram serve: bad configuration: secret_key_file: folder {path.parent} does "
            "not exist; create it or correct the path (a new key file is created only in an "
            "existing folder)"
        )


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
    # ConfigurationError (bad key file, data_dir a file, http iss in production) propagates:
    # main() prints it. data_dir first: on first start a key file inside it has its folder.
    ensure_private_folder(settings.data_dir, "data_dir")
    _check_secret_key_folder(settings)
    app = create_app(settings)
    problem = port_problem(args.host, args.port)
    if problem is not None:
        raise CliError(f"discogram serve: {problem}")
    run_server(app, host=args.host, port=args.port, log_level=settings.log_level)
    return 0
