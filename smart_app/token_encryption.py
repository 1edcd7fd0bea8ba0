"""Encryption at rest for tokens and launch secrets (Fernet: AES-128-CBC + HMAC-SHA256).

The key file (`secret_key_file`, default `<data_dir>/secret.key`) is created on first start
with mode 0600. It holds one Fernet key per line: the first encrypts, all decrypt, so a key can
be rotated by putting the new one on top and dropping the old one once sessions have expired.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from plugin.errors import ConfigurationError
from smart_app.settings import Settings

__all__ = ["TokenCipher", "UnreadableSecretError", "secret_key_path"]

log = logging.getLogger(__name__)


class UnreadableSecretError(Exception):
    """Stored data cannot be decrypted (the key was replaced, or the data was tampered with)."""


def secret_key_path(settings: Settings) -> Path:
    return settings.secret_key_file or settings.data_dir / "secret.key"


def _create_key_file(path: Path) -> None:
    if path.is_symlink():  # to nothing: `path` does not exist
        # O_EXCL refuses to follow it; a key written elsewhere would be a surprise anyway.
        raise ConfigurationError(
            f"secret_key_file {path}: is a symbolic link to {os.readlink(path)}, which does "
            "not exist; put the key file there or correct the path"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it first; read theirs
    with os.fdopen(descriptor, "wb") as file:
        file.write(Fernet.generate_key() + b"\n")
    log.info("created a new secret key file %s", path)


def _read_key_file(path: Path) -> bytes:
    if path.is_dir():
        raise ConfigurationError(
            f"secret_key_file {path}: is a folder (data_dir itself?); give the key file's path "
            f"(e.g. {path}/secret.key)"
        )
    if not path.exists():
        _create_key_file(path)
    if path.stat().st_mode & 0o077:
        log.warning("secret key file %s is readable by other users; restrict it to 0600", path)
    return path.read_bytes()


class TokenCipher:
    """Encrypts and decrypts the server-side secrets of launches and sessions."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    @classmethod
    def from_key_file(cls, path: Path) -> TokenCipher:
        """Read (on first start: create) the key file; raises ConfigurationError naming
        `secret_key_file` for one that cannot be created, read or used."""
        try:
            content = _read_key_file(path)
        except OSError as exc:
            raise ConfigurationError(
                f"secret_key_file {path}: cannot be created or read ({exc.strerror or exc})"
            ) from None
        lines = [line.strip() for line in content.splitlines() if line.strip()]
        try:
            return cls(lines)
        except ValueError:
            raise ConfigurationError(
                f"secret_key_file {path}: each line must be a Fernet key (32 url-safe base64 bytes)"
            ) from None

    def encrypt(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def decrypt(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken:
            raise UnreadableSecretError(
                "stored secret cannot be decrypted with the current keys"
            ) from None

    def encrypt_json(self, value: dict[str, Any]) -> bytes:
        return self.encrypt(json.dumps(value, separators=(",", ":")).encode())

    def decrypt_json(self, token: bytes) -> dict[str, Any]:
        value = json.loads(self.decrypt(token))
        if not isinstance(value, dict):
            raise UnreadableSecretError("stored secret is not a JSON object")
        return value
