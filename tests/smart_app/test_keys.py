import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from plugin.errors import ConfigurationError
from smart_app.keys import (
    RegistrationKeys,
    generate_private_key,
    jwks_document,
    load_client_key,
    load_registration_keys,
)
from tests.smart_app.conftest import registration

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def write_pem(path: Path, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return path


def test_generated_ec_key_is_p384_es384_with_thumbprint_kid_and_0600(tmp_path: Path) -> None:
    key = generate_private_key(tmp_path / "keys" / "app.pem")
    assert key.alg == "ES384"
    assert key.kid == key.key.thumbprint()
    assert stat.S_IMODE((tmp_path / "keys" / "app.pem").stat().st_mode) == 0o600
    assert load_client_key(key.path).kid == key.kid  # stable across loads


def test_generate_never_overwrites(tmp_path: Path) -> None:
    generate_private_key(tmp_path / "app.pem")
    with pytest.raises(FileExistsError):
        generate_private_key(tmp_path / "app.pem")


def test_rsa_key_signs_rs384(tmp_path: Path) -> None:
    path = write_pem(tmp_path / "rsa.pem", rsa.generate_private_key(65537, 2048))
    key = load_client_key(path)
    assert key.alg == "RS384"
    jwk = key.public_jwk()
    assert set(jwk) == {"kty", "kid", "use", "alg", "n", "e"}
    assert jwk["kty"] == "RSA"


def test_ec_keys_on_other_curves_are_refused(tmp_path: Path) -> None:
    path = write_pem(tmp_path / "p256.pem", ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(ConfigurationError, match="P-384"):
        load_client_key(path)


def test_short_rsa_keys_are_refused(tmp_path: Path) -> None:
    path = write_pem(tmp_path / "short.pem", rsa.generate_private_key(65537, 1024))
    with pytest.raises(ConfigurationError, match="2048"):
        load_client_key(path)


def test_unreadable_and_non_pem_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"missing\.pem"):
        load_client_key(tmp_path / "missing.pem")
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(ConfigurationError, match="unencrypted PEM"):
        load_client_key(tmp_path / "junk.pem")


def test_jwks_has_current_and_next_public_keys_only(tmp_path: Path) -> None:
    current = generate_private_key(tmp_path / "current.pem")
    upcoming = generate_private_key(tmp_path / "next.pem")
    document = jwks_document([RegistrationKeys(current, upcoming), RegistrationKeys(current, None)])
    assert [k["kid"] for k in document["keys"]] == [current.kid, upcoming.kid]
    for jwk in document["keys"]:
        assert set(jwk) == {"kty", "kid", "use", "alg", "crv", "x", "y"}
        assert not PRIVATE_MEMBERS & set(jwk)
        assert jwk["crv"] == "P-384" and jwk["alg"] == "ES384" and jwk["use"] == "sig"


def test_registration_keys_are_loaded_by_iss(tmp_path: Path, make_settings) -> None:  # type: ignore[no-untyped-def]
    current = generate_private_key(tmp_path / "c.pem")
    upcoming = generate_private_key(tmp_path / "n.pem", kind="EC")
    settings = make_settings(
        registration(
            client_auth="private_key_jwt",
            private_key_file=current.path,
            next_private_key_file=upcoming.path,
        )
    )
    keys = load_registration_keys(settings)
    (only,) = keys.values()
    assert only.current.kid == current.kid and only.next is not None
    assert only.next.kid == upcoming.kid
