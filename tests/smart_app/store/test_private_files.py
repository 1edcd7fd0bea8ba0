"""Folders and SQLite files holding patient data are the service account's only."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from plugin.errors import ConfigurationError
from smart_app.store.private_files import ensure_private_folder, restrict_database_file


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """The common umask 022, under which files are created world-readable by default."""
    saved = os.umask(0o022)
    yield
    os.umask(saved)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_missing_folders_are_created_0700(tmp_path: Path) -> None:
    ensure_private_folder(tmp_path / "var" / "data", "data_dir")
    assert mode(tmp_path / "var") == 0o700
    assert mode(tmp_path / "var" / "data") == 0o700


def test_an_existing_folder_is_left_as_the_administrator_made_it(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o750)
    ensure_private_folder(folder, "data_dir")
    assert mode(folder) == 0o750


def test_a_file_where_the_folder_should_be_is_refused_naming_the_key(tmp_path: Path) -> None:
    file = tmp_path / "afile"
    file.write_text("x")
    with pytest.raises(
        ConfigurationError, match=r"^--data-dir .*afile: exists and is not a folder"
    ):
        ensure_private_folder(file, "--data-dir")
    with pytest.raises(ConfigurationError, match=r"^data_dir .*afile is a file, not a folder"):
        ensure_private_folder(file / "below", "data_dir")


def test_a_new_database_file_is_created_0600(tmp_path: Path) -> None:
    database = tmp_path / "app.sqlite3"
    restrict_database_file(database)
    assert database.stat().st_size == 0  # SQLite takes an empty file as a new database
    assert mode(database) == 0o600


def test_an_existing_database_open_to_others_is_tightened_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "app.sqlite3"
    database.write_bytes(b"drafts and signed reports")
    database.chmod(0o644)
    wal = tmp_path / "app.sqlite3-wal"
    wal.write_bytes(b"recent commits")
    wal.chmod(0o640)
    with caplog.at_level(logging.WARNING, logger="smart_app.store.private_files"):
        restrict_database_file(database)
    assert mode(database) == 0o600 and mode(wal) == 0o600
    assert database.read_bytes() == b"drafts and signed reports"  # never truncated
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2
    assert (
        f"{database} was readable by other users (mode 0644); restricted it to 0600"
        in (messages[0])
    )
    assert all("drafts" not in message and "commits" not in message for message in messages)


def test_a_private_database_is_left_alone_without_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "app.sqlite3"
    database.write_bytes(b"")
    database.chmod(0o600)
    with caplog.at_level(logging.DEBUG):
        restrict_database_file(database)
    assert mode(database) == 0o600
    assert caplog.records == []


def test_a_dangling_symlink_as_the_folder_is_refused_naming_the_key(tmp_path: Path) -> None:
    link = tmp_path / "data"
    link.symlink_to(tmp_path / "missing")
    with pytest.raises(ConfigurationError) as caught:
        ensure_private_folder(link / "sub", "data_dir")
    assert str(caught.value) == (
        f"data_dir {link / 'sub'}: {link} is a symbolic link to {tmp_path / 'missing'}, which "
        "does not exist; create that folder or correct the path"
    )
    assert not (tmp_path / "missing").exists()
