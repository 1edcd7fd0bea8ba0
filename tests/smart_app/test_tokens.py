import base64
import json

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from smart_app.errors import IdTokenError, TokenResponseError
from smart_app.tokens import (
    UnknownSigningKeyError,
    id_token_issuer,
    parse_token_response,
    validate_id_token,
)

NOW = 1_750_000_000
ISSUER = "https://ehr.example.org/auth"


def test_token_response_reads_the_launch_context() -> None:
    token = parse_token_response(
        {
            "access_token": "at-1",
            "token_type": "bearer",
            "scope": "launch patient/*.rs",
            "expires_in": "3600",
            "refresh_token": "rt-1",
            "patient": "p1",
            "encounter": "e1",
            "fhirContext": [
                {"reference": "ServiceRequest/sr1"},
                {"reference": "Patient/other", "role": "https://example.org/donor"},
            ],
            "need_patient_banner": False,
            "smart_style_url": "https://ehr/style",
            "intent": "reconcile",
            "tenant": "t1",
            "unexpected": "ignored",
        },
        "EHR",
    )
    assert token.expires_in == 3600
    assert token.patient == "p1" and token.encounter == "e1"
    assert [c.effective_role for c in token.fhir_context] == ["launch", "https://example.org/donor"]
    assert token.need_patient_banner is False
    assert token.intent == "reconcile" and token.tenant == "t1"


def test_tokens_never_print() -> None:
    token = parse_token_response(
        {"access_token": "at-secret", "token_type": "Bearer", "refresh_token": "rt-secret"}, "EHR"
    )
    assert "at-secret" not in repr(token) and "rt-secret" not in str(token)
    assert token.access_token.get_secret_value() == "at-secret"


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"token_type": "Bearer"}, "access_token"),
        ({"access_token": "a"}, "token_type"),
        ({"access_token": "a", "token_type": "Bearer", "expires_in": -5}, "expires_in"),
        (
            {"access_token": "a", "token_type": "Bearer", "need_patient_banner": "maybe"},
            "need_patient_banner",
        ),
        ([], "response"),
    ],
)
def test_a_broken_token_response_names_the_field(raw: object, named: str) -> None:
    with pytest.raises(TokenResponseError) as raised:
        parse_token_response(raw, "EHR")
    assert named in raised.value.detail


@pytest.fixture(scope="module")
def key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "k1"})


def sign(key: RSAKey, alg: str = "RS256", **changes: object) -> str:
    claims = {"iss": ISSUER, "sub": "u1", "aud": "app", "exp": NOW + 300, "iat": NOW}
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": alg, "kid": "k1"}, claims, key)


def validate(token: str, key: RSAKey) -> object:
    return validate_id_token(token, KeySet([key]), issuer=ISSUER, client_id="app", now=NOW)


def test_a_good_id_token_gives_the_fhir_user(key: RSAKey) -> None:
    claims = validate_id_token(
        sign(key, fhirUser="Practitioner/9"), KeySet([key]), issuer=ISSUER, client_id="app", now=NOW
    )
    assert claims.fhir_user == "Practitioner/9" and claims.subject == "u1"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"iss": "https://elsewhere"}, "iss is not"),
        ({"aud": "other"}, "aud does not contain"),
        ({"aud": ["app", "other"]}, "azp"),
        ({"exp": NOW - 120}, "expired"),
        ({"exp": None}, "exp missing"),
        ({"iat": None}, "iat missing"),
        ({"iat": NOW + 600}, "future"),
        ({"sub": None}, "sub missing"),
    ],
)
def test_id_token_claims_are_checked(key: RSAKey, changes: dict[str, object], reason: str) -> None:
    with pytest.raises(IdTokenError) as raised:
        validate(sign(key, **changes), key)
    assert reason in raised.value.detail


def test_several_audiences_with_our_azp_are_accepted(key: RSAKey) -> None:
    validate(sign(key, aud=["app", "other"], azp="app"), key)


def test_symmetric_and_unsigned_tokens_are_refused(key: RSAKey) -> None:
    hs = jwt.encode({"alg": "HS256"}, {"iss": ISSUER}, OctKey.import_key("x" * 32))
    with pytest.raises(IdTokenError, match="not accepted"):
        validate(hs, key)
    unsigned = (
        ".".join(
            base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
            for part in ({"alg": "none"}, {"iss": ISSUER})
        )
        + "."
    )
    with pytest.raises(IdTokenError):
        validate(unsigned, key)


def test_a_token_signed_with_another_key_of_the_same_kid_is_refused(key: RSAKey) -> None:
    impostor = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    with pytest.raises(IdTokenError, match="signature does not verify"):
        validate(sign(impostor), key)


def test_an_unknown_kid_is_reported_for_a_key_refresh(key: RSAKey) -> None:
    other = RSAKey.generate_key(2048, parameters={"kid": "k2"})
    with pytest.raises(UnknownSigningKeyError):
        validate(jwt.encode({"alg": "RS256", "kid": "k2"}, {"iss": ISSUER}, other), key)


def test_issuer_is_read_before_verification_only_from_a_jws(key: RSAKey) -> None:
    assert id_token_issuer(sign(key)) == ISSUER
    with pytest.raises(IdTokenError):
        id_token_issuer("garbage")
