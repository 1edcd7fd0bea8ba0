from __future__ import annotations

import pytest
from joserfc.jwk import ECKey, RSAKey

from plugin.jwk_set import JwkSetInvalidError, public_key_set

EC = ECKey.generate_key("P-384", parameters={"kid": "ec-1"})
RSA = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
PUBLIC = [EC.as_dict(private=False), RSA.as_dict(private=False)]


def test_the_rsa_and_ec_public_keys_are_kept() -> None:
    other = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert [key.kid for key in public_key_set({"keys": [other, *PUBLIC]}).keys] == [
        "ec-1",
        "rsa-1",
    ]


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ([], "is not a JWK Set"),
        ({"keys": {}}, "is not a JWK Set"),
        ({"keys": [EC.as_dict(private=True)]}, "holds private key material"),
        ({"keys": [RSA.as_dict(private=True)]}, "holds private key material"),
        (
            {"keys": [{"kty": "oct", "k": "c2VjcmV0"}, *PUBLIC]},
            "holds private key material",
        ),
        ({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AA"}]}, "holds no RSA or EC public key"),
        ({"keys": [{"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}]}, "has an unreadable key"),
    ],
)
def test_a_set_that_cannot_be_trusted_is_refused_whole(document: object, problem: str) -> None:
    with pytest.raises(JwkSetInvalidError, match=problem):
        public_key_set(document)
