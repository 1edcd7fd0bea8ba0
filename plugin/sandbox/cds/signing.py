"""The sandbox's CDS client key and the JWT it sends with every CDS Hooks call (CDS Hooks 2.0
§Trusting CDS Clients, §JWT Signing Algorithm): ES384 with a `kid`; `iss` the sandbox, `aud`
the exact URL called, a five-minute life and a fresh `jti`. No `jku`: the service is given the
public key as a JWK Set file, so a `jku` would only be one more thing to check."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from joserfc import jwt

from smart_app.keys import ClientKey, generate_private_key, load_client_key

__all__ = ["JWT_LIFETIME_SECONDS", "CdsSigningKey"]

#: Short, as EHRs do (Epic: about five minutes): a captured token is soon useless.
JWT_LIFETIME_SECONDS = 300


class CdsSigningKey:
    """An EC P-384 key kept in a PEM file (mode 0600, created on first use)."""

    def __init__(self, key: ClientKey) -> None:
        self._key = key

    @classmethod
    def ensure(cls, path: Path) -> CdsSigningKey:
        """The key at `path`, generated first when the file does not exist yet."""
        key = load_client_key(path) if path.exists() else generate_private_key(path, kind="EC")
        return cls(key)

    @property
    def kid(self) -> str:
        return self._key.kid

    def public_jwks(self) -> dict[str, list[dict[str, str]]]:
        """The JWK Set of the public key only (what the CDS service is given)."""
        return {"keys": [self._key.public_jwk()]}

    def write_public_jwks(self, path: Path) -> Path:
        """Write the public JWK Set to `path` (world-readable is fine: public keys only)."""
        text = json.dumps(self.public_jwks(), indent=2) + "\n"
        temporary = path.with_suffix(path.suffix + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)  # readers never see a half-written file
        return path

    def headers(self, issuer: str, url: str, now: float) -> dict[str, str]:
        """The headers of one call of the endpoint at `url`: a fresh bearer JWT for it."""
        token = self.client_jwt(issuer, url, now)
        return {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def client_jwt(self, issuer: str, audience: str, now: float) -> str:
        """A bearer JWT for one call of the endpoint at URL `audience`."""
        header: dict[str, Any] = {"alg": self._key.alg, "typ": "JWT", "kid": self.kid}
        issued = int(now)
        claims: dict[str, Any] = {
            "iss": issuer,
            "aud": audience,
            "iat": issued,
            "exp": issued + JWT_LIFETIME_SECONDS,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(header, claims, self._key.key, algorithms=[self._key.alg])
