import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from plugin.errors import ConfigurationError
from smart_app.token_encryption import TokenCipher, UnreadableSecretError, secret_key_path


def test_key_file_is_created_on_first_start_with_0600(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "secret.key"
    cipher = TokenCipher.from_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = TokenCipher.from_key_file(path)  # reused, not regenerated
    assert again.decrypt(cipher.encrypt(b"x")) == b"x"


def test_rotation_keeps_old_data_readable(tmp_path: Path) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    path = tmp_path / "secret.key"
    path.write_bytes(old + b"\n")
    token = TokenCipher.from_key_file(path).encrypt_json({"a": 1})
    path.write_bytes(new + b"\n" + old + b"\n")
    rotated = TokenCipher.from_key_file(path)
    assert rotated.decrypt_json(token) == {"a": 1}
    assert TokenCipher([new]).decrypt_json(rotated.encrypt_json({"b": 2})) == {"b": 2}


def test_a_bad_key_file_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_text("not-a-fernet-key\n")
    with pytest.raises(ConfigurationError, match="Fernet key"):
        TokenCipher.from_key_file(path)


def test_tampered_or_foreign_data_is_unreadable() -> None:
    token = TokenCipher([Fernet.generate_key()]).encrypt(b"secret")
    with pytest.raises(UnreadableSecretError):
        TokenCipher([Fernet.generate_key()]).decrypt(token)


def test_default_key_path_is_in_the_data_dir(make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings()
    assert secret_key_path(settings) == settings.data_dir / "secret.key"
    assert secret_key_path(make_settings(secret_key_file=Path("/x/k"))) == Path("/x/k")


def test_a_dangling_symlink_as_key_file_is_a_configuration_error(tmp_path: Path) -> None:
    link = tmp_path / "secret.key"
    link.symlink_to(tmp_path / "missing" / "secret.key")
    with pytest.raises(ConfigurationError) as caught:
        TokenCipher.from_key_file(link)
    assert str(caught.value) == (
        f"secret_key_file {link}: is a symbolic link to {tmp_path / 'missing' / 'secret.key'}, "
        "which does not exist; put the key file there or correct the path"
    )


def test_a_folder_as_key_file_is_a_configuration_error(tmp_path: Path) -> None:
    # secret_key_file = data_dir: the folder exists only once data_dir has been created.
    with pytest.raises(ConfigurationError, match=r"secret_key_file .*: is a folder"):
        TokenCipher.from_key_file(tmp_path)


def test_an_unreadable_key_file_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(ConfigurationError, match=r"secret_key_file .*: cannot be created or read"):
        TokenCipher.from_key_file(tmp_path / "file" / "secret.key")
