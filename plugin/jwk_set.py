"""The public keys of a JWK Set document (RFC 7517 §5): the one reading of a client's keys for
the CDS services (`plugin.cds_hooks.client_keys`), the settings check of a configured file
(`smart_app.settings`) and the sandbox's authorization server (`plugin.sandbox.auth`).

Only RSA and EC public keys are kept (the algorithms we accept are asymmetric). A set carrying
private material in any key is refused whole: whoever published it has leaked a secret, and no
key of it should be trusted. Private material is any of the RSA private members ``d``, ``p``,
``q``, ``dp``, ``dq``, ``qi`` and ``oth`` (RFC 7518 §6.3.2; the primes alone give away the key
even without ``d``), an EC private key ``d`` (§6.2.2), or a symmetric key's secret ``k``
(§6.4.1).
"""

from __future__ import annotations

from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import KeySet

__all__ = ["JwkSetInvalidError", "public_key_set"]

_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class JwkSetInvalidError(ValueError):
    """What is wrong with the document, as the end of a sentence about it ("… holds no RSA or
    EC public key"); the caller names the document."""


def public_key_set(document: Any) -> KeySet:
    """The RSA and EC public keys of `document`. Raises JwkSetInvalidError."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwkSetInvalidError('is not a JWK Set (a JSON object with a "keys" list)')
    keys = [key for key in document["keys"] if isinstance(key, dict)]
    leaked = sorted({member for key in keys for member in _PRIVATE_MEMBERS.intersection(key)})
    if leaked:
        raise JwkSetInvalidError(
            f"holds private key material ({', '.join(leaked)}); give the public keys only"
        )
    usable = [key for key in keys if key.get("kty") in ("RSA", "EC")]
    if not usable:
        raise JwkSetInvalidError("holds no RSA or EC public key")
    try:
        return KeySet.import_key_set({"keys": usable})
    except (JoseError, ValueError, TypeError):
        raise JwkSetInvalidError("has an unreadable key") from None
