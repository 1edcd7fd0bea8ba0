"""The app's signing keys for `private_key_jwt` (SMART Client Authentication: Asymmetric).

Keys are PEM files named in the EHR registrations: RSA (≥ 2048 bits, signs RS384) or EC P-384
(signs ES384). Each key's `kid` is its RFC 7638 thumbprint, so it is unique in the set and
stable across restarts. The JWK Set served at `/.well-known/jwks.json` holds the public halves
of every registration's current and next key (for rotation) — never a private member.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc.jwk import ECKey, RSAKey

from plugin.errors import ConfigurationError
from smart_app.settings import EhrRegistration, Settings

__all__ = [
    "ClientKey",
    "RegistrationKeys",
    "generate_private_key",
    "jwks_document",
    "load_client_key",
    "load_registration_keys",
]

log = logging.getLogger(__name__)

SigningAlg = Literal["RS384", "ES384"]
_PUBLIC_MEMBERS = {"RSA": ("n", "e"), "EC": ("crv", "x", "y")}


@dataclass(frozen=True, slots=True)
class ClientKey:
    """A private signing key with its JWS algorithm and key id."""

    key: RSAKey | ECKey
    alg: SigningAlg
    kid: str
    path: Path

    def public_jwk(self) -> dict[str, str]:
        """The public JWK: `kty`, `kid`, `use`, `alg` and the bare public key material only."""
        public = self.key.as_dict(private=False)
        kty = str(public["kty"])
        jwk = {"kty": kty, "kid": self.kid, "use": "sig", "alg": self.alg}
        # Copy by allow-list, so no private member can ever slip through.
        jwk.update({name: str(public[name]) for name in _PUBLIC_MEMBERS[kty]})
        return jwk


@dataclass(frozen=True, slots=True)
class RegistrationKeys:
    current: ClientKey
    next: ClientKey | None


def load_client_key(path: Path) -> ClientKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            f"private_key_file {path}: cannot be read ({exc.strerror})"
        ) from None
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise ConfigurationError(
            f"private_key_file {path}: must be an unencrypted PEM private key"
        ) from None
    if path.stat().st_mode & 0o077:
        # Not fatal (a mounted secret may be 0640 with a restricted group) but worth saying.
        log.warning("private key file %s is readable by other users; restrict it to 0600", path)
    key: RSAKey | ECKey
    alg: SigningAlg
    if isinstance(private, rsa.RSAPrivateKey):
        if private.key_size < 2048:
            raise ConfigurationError(f"private_key_file {path}: RSA keys must have ≥ 2048 bits")
        key, alg = RSAKey.import_key(private), "RS384"
    elif isinstance(private, ec.EllipticCurvePrivateKey):
        if not isinstance(private.curve, ec.SECP384R1):
            raise ConfigurationError(
                f"private_key_file {path}: EC keys must be on curve P-384 (ES384), "
                f"not {private.curve.name}"
            )
        key, alg = ECKey.import_key(private), "ES384"
    else:
        raise ConfigurationError(f"private_key_file {path}: must be an RSA or EC P-384 key")
    return ClientKey(key=key, alg=alg, kid=key.thumbprint(), path=path)


def generate_private_key(path: Path, kind: Literal["EC", "RSA"] = "EC") -> ClientKey:
    """Create a new PEM private key at `path` (mode 0600; never overwrites) and load it."""
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if kind == "RSA":
        private = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    else:
        private = ec.generate_private_key(ec.SECP384R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    return load_client_key(path)


def _registration_keys(registration: EhrRegistration) -> RegistrationKeys | None:
    if registration.private_key_file is None:
        return None
    current = load_client_key(registration.private_key_file)
    upcoming = (
        load_client_key(registration.next_private_key_file)
        if registration.next_private_key_file is not None
        else None
    )
    return RegistrationKeys(current, upcoming)


def load_registration_keys(settings: Settings) -> dict[str, RegistrationKeys]:
    """Keys of every registration that has them, by `iss`; a bad key file fails at start."""
    loaded: dict[str, RegistrationKeys] = {}
    for registration in settings.ehr:
        keys = _registration_keys(registration)
        if keys is not None:
            loaded[registration.iss] = keys
    return loaded


def jwks_document(keys: Iterable[RegistrationKeys]) -> dict[str, list[dict[str, str]]]:
    """The JWK Set: current and next public keys, each key once."""
    by_kid: dict[str, dict[str, str]] = {}
    for registration_keys in keys:
        for key in (registration_keys.current, registration_keys.next):
            if key is not None:
                by_kid.setdefault(key.kid, key.public_jwk())
    return {"keys": list(by_kid.values())}
