"""Folders and SQLite files that hold patient data (study drafts, signed reports, the outbox):
readable by the service account only — folders 0700, files 0600, whatever the umask.

An existing database file (or its -wal, -shm or -journal file) open to other users is
tightened to 0600, with a log line naming the file (a path, never its contents)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from plugin.errors import ConfigurationError

__all__ = ["ensure_private_folder", "restrict_database_file"]

log = logging.getLogger(__name__)

_PRIVATE_FILE = 0o600
_PRIVATE_FOLDER = 0o700
#: The files SQLite keeps beside a database; it creates them with the database file's mode.
_SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def _dangling_link(path: Path) -> str | None:
    """Where `path` points, when it is a symbolic link to nothing."""
    if path.is_symlink() and not path.exists():
        return os.readlink(path)
    return None


def ensure_private_folder(path: Path, key: str) -> None:
    """Create `path` and any missing parent with mode 0700 (existing folders are left as they
    are: an administrator may have chosen their mode). `key` names the setting in errors, all
    of them ConfigurationError."""
    try:
        _ensure_private_folder(path, key)
    except OSError as exc:  # what the checks below did not foresee: still one line
        raise ConfigurationError(
            f"{key} {path}: cannot be used as a folder ({exc.strerror or exc})"
        ) from None


def _ensure_private_folder(path: Path, key: str) -> None:
    if path.exists() and not path.is_dir():
        raise ConfigurationError(f"{key} {path}: exists and is not a folder")
    missing: list[Path] = []
    folder = path
    while not folder.exists():
        target = _dangling_link(folder)
        if target is not None:
            # mkdir would fail on the link: say what it points to, rather than a traceback.
            where = "" if folder == path else f" {folder}"
            raise ConfigurationError(
                f"{key} {path}:{where} is a symbolic link to {target}, which does not exist; "
                "create that folder or correct the path"
            )
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    if folder.exists() and not folder.is_dir():
        raise ConfigurationError(f"{key} {path}: {folder} is a file, not a folder")
    for created in reversed(missing):
        try:
            created.mkdir(mode=_PRIVATE_FOLDER)
        except FileExistsError:
            if created.is_dir():
                continue  # another process created it meanwhile
            raise ConfigurationError(
                f"{key} {path}: {created} exists and is not a folder"
            ) from None
        except OSError as exc:
            raise ConfigurationError(
                f"{key} {path}: cannot create folder {created} ({exc.strerror})"
            ) from None
        # mkdir's mode passes through the umask; chmod makes it exactly 0700.
        created.chmod(_PRIVATE_FOLDER)


def _tighten(path: Path) -> None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        path.chmod(_PRIVATE_FILE)
        log.warning(
            "database file %s was readable by other users (mode %04o); restricted it to 0600",
            path,
            mode,
        )


def restrict_database_file(path: Path) -> None:
    """Create the SQLite file `path` empty with mode 0600 if it does not exist (SQLite takes an
    empty file as a new database and gives its journal files the same mode); tighten it and
    its journal files to 0600 if they are open to other users."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_FILE)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigurationError(
            f"database file {path}: cannot be created ({exc.strerror})"
        ) from None
    else:
        os.close(descriptor)
    for file in (path, *(path.with_name(path.name + suffix) for suffix in _SQLITE_COMPANIONS)):
        _tighten(file)
