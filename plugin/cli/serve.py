"""`discogram serve`: run the SMART app alone, against the EHRs registered in the settings."""

from __future__ import annotations

import argparse
import logging
import tomllib
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import ValidationError

from plugin.cli import CliError
from smart_app.app import create_app
from smart_app.library_logs import quiet_library_logs
from smart_app.settings import load_settings

__all__ = [
    "PRODUCT_LOGGERS",
    "add_parser",
    "configure_logging",
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


def _settings_error(exc: ValidationError) -> CliError:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "settings"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return CliError(f"discogram serve: bad configuration: {where}: {first['msg']}{more}")


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
    except tomllib.TOMLDecodeError as exc:
        raise CliError(f"discogram serve: configuration file is not valid TOML: {exc}") from None
    # ConfigurationError (bad key file, http iss in production) propagates: main() prints it.
    app = create_app(settings)
    configure_logging(settings.log_level)
    run_server(app, host=args.host, port=args.port, log_level=settings.log_level)
    return 0
