"""Third-party loggers that must stay quiet: below WARNING they log data the product never
logs — SQL statements with their parameters (study JSON, patient names: aiosqlite,
sqlalchemy, asyncpg), issued tokens (authlib, in the sandbox), request URLs carrying patient
ids and search values (httpx, httpcore)."""

from __future__ import annotations

import logging

__all__ = ["QUIET_LIBRARY_LOGGERS", "quiet_library_logs"]

QUIET_LIBRARY_LOGGERS = ("aiosqlite", "sqlalchemy", "asyncpg", "authlib", "httpx", "httpcore")


def quiet_library_logs(*, unless_configured: bool) -> None:
    """Hold the loggers at WARNING. With `unless_configured`, leave alone a logger someone set
    explicitly (an embedding host's own logging setup wins)."""
    for name in QUIET_LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if not unless_configured or logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)
