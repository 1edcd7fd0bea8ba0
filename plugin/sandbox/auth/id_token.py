"""The sandbox's OpenID Connect id_tokens: an RSA key signing RS256 (the algorithm every
SMART server must support), published at the JWKS URL of the issuer."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey

from plugin.errors import ConfigurationError

__all__ = ["IdTokenSigner"]

ID_TOKEN_LIFETIME = timedelta(hours=1)


class IdTokenSigner:
    def __init__(self, key: RSAKey) -> None:
        self._key = key
        self.kid = key.thumbprint()

    @classmethod
    def from_file(cls, path: Path | None) -> IdTokenSigner:
        """Load the PEM key at `path`, creating it (mode 0600) if absent; no path: a key for
        this run only."""
        if path is None:
            return cls(RSAKey.generate_key(2048))
        if not path.exists():
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(pem)
        try:
            return cls(RSAKey.import_key(path.read_bytes()))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"sandbox signing key {path}: {exc}") from None

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        public = self._key.as_dict(private=False)
        return {
            "keys": [
                {"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
                 "n": public["n"], "e": public["e"]}
            ]
        }  # fmt: skip

    def sign(
        self,
        *,
        issuer: str,
        subject: str,
        audience: str,
        fhir_user: str,
        now: datetime,
        nonce: str | None = None,
    ) -> str:
        claims: dict[str, Any] = {
            "iss": issuer,
            "sub": subject,
            "aud": audience,
            "iat": int(now.timestamp()),
            "exp": int((now + ID_TOKEN_LIFETIME).timestamp()),
            "fhirUser": fhir_user,
        }
        if nonce is not None:
            claims["nonce"] = nonce
        header = {"alg": "RS256", "kid": self.kid, "typ": "JWT"}
        return jwt.encode(header, claims, self._key)
