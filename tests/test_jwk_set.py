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


# RFC 7518 §6.3.2 (RSA private members; the primes alone give away the key), §6.2.2 (EC "d"),
# §6.4.1 (a symmetric key's "k").
RSA_PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth"]


@pytest.mark.parametrize("member", RSA_PRIVATE_MEMBERS)
def test_any_rsa_private_member_refuses_the_set_even_without_d(member: str) -> None:
    private = RSA.as_dict(private=True)
    # "oth" (a multi-prime key's other primes) is not generated; any value of it is a leak.
    value = private.get(member, [{"r": "AQ", "d": "AQ", "t": "AQ"}])
    leaky = {**RSA.as_dict(private=False), member: value}
    with pytest.raises(JwkSetInvalidError, match=rf"holds private key material \({member}\)"):
        public_key_set({"keys": [EC.as_dict(private=False), leaky]})


def test_rsa_primes_without_d_are_refused() -> None:
    leaky = {k: v for k, v in RSA.as_dict(private=True).items() if k != "d"}
    with pytest.raises(JwkSetInvalidError, match=r"\(dp, dq, p, q, qi\)"):
        public_key_set({"keys": [leaky]})


def test_an_ec_private_key_or_a_symmetric_secret_refuses_the_set() -> None:
    with pytest.raises(JwkSetInvalidError, match=r"holds private key material \(d\)"):
        public_key_set({"keys": [EC.as_dict(private=True), RSA.as_dict(private=False)]})
    with pytest.raises(JwkSetInvalidError, match=r"holds private key material \(k\)"):
        public_key_set({"keys": [{"kty": "oct", "k": "c2VjcmV0"}, *PUBLIC]})
