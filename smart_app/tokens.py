"""The token response (App Launch §Obtain access token, §Refresh access token) and id_token
validation (OpenID Connect Core §3.1.3.7, App Launch §Steps for using an ID token).

Token values are `SecretStr`: a token response that reaches a log or an exception message
prints as ``**********``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.integrations.base_client import OAuthError
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from smart_app.client_auth import AsyncOAuth2Client
from smart_app.errors import IdTokenError, TokenEndpointError, TokenResponseError
from smart_app.oauth_errors import explain_token_error, safe_error_code

__all__ = [
    "ID_TOKEN_ALGORITHMS",
    "MAX_APP_CONTEXT_CHARS",
    "FhirContextItem",
    "IdTokenClaims",
    "TokenResponse",
    "UnknownSigningKeyError",
    "exchange_code",
    "id_token_issuer",
    "parse_token_response",
    "refresh_tokens",
    "validate_id_token",
]

log = logging.getLogger(__name__)

#: Signature algorithms accepted on id_tokens. Servers must support RS256; symmetric (HS*) and
#: "none" are never accepted — with a public JWKS they would let anyone forge a token.
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384")
CLOCK_SKEW_SECONDS = 60
#: A CDS card's appContext names a draft order; anything longer is not ours and is dropped.
MAX_APP_CONTEXT_CHARS = 4096


class FhirContextItem(BaseModel):
    """One `fhirContext` entry; no `role` means role "launch" (App Launch §fhirContext)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    reference: str | None = None
    canonical: str | None = None
    identifier: dict[str, Any] | None = None
    type: str | None = None
    role: str | None = None

    @property
    def effective_role(self) -> str:
        return self.role or "launch"


class TokenResponse(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    access_token: SecretStr = Field(min_length=1)
    token_type: str
    scope: str | None = None
    expires_in: int | None = Field(default=None, ge=0)
    refresh_token: SecretStr | None = None
    id_token: SecretStr | None = None
    patient: str | None = None
    encounter: str | None = None
    fhir_context: list[FhirContextItem] = Field(default_factory=list, alias="fhirContext")
    need_patient_banner: bool | None = None
    smart_style_url: str | None = None
    intent: str | None = None
    tenant: str | None = None
    # CDS Hooks §Link: the card's `appContext`, handed over by the EHR in the token response.
    app_context: str | None = Field(default=None, alias="appContext")

    @field_validator("app_context", mode="before")
    @classmethod
    def _usable_app_context(cls, value: object) -> object:
        # Optional hint from a CDS card: one the app cannot use never stops the launch.
        if not isinstance(value, str) or len(value) > MAX_APP_CONTEXT_CHARS:
            return None
        return value


def parse_token_response(raw: object, ehr_name: str) -> TokenResponse:
    """Validate a token endpoint answer; every broken field is named."""
    try:
        response = TokenResponse.model_validate(raw)
    except ValidationError as exc:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'response'}: {e['msg']}" for e in exc.errors()
        )
        raise TokenResponseError(
            f"{ehr_name} answered the sign-in with something the app cannot use. Please tell the "
            "EHR's integration team (technical detail below).",
            f"token response invalid: {fields}",
        ) from None
    if response.token_type.lower() != "bearer":
        raise TokenResponseError(
            f"{ehr_name} issued a kind of access the app cannot use. Please tell the EHR's "
            "integration team.",
            f"token_type must be Bearer (got {safe_error_code(response.token_type)})",
        )
    return response


def _endpoint_failure(exc: Exception, ehr_name: str, grant: str) -> TokenEndpointError:
    if isinstance(exc, OAuthError):
        code = safe_error_code(getattr(exc, "error", None)) or "(no error code)"
        return TokenEndpointError(
            explain_token_error(code, ehr_name),
            f"token endpoint ({grant}) answered error={code}",
            error_code=code,
        )
    if isinstance(exc, httpx.HTTPStatusError):
        return TokenEndpointError(
            f"{ehr_name}'s sign-in service had a problem (HTTP {exc.response.status_code}). Try "
            "again in a few minutes; if it keeps happening, tell your EHR support team.",
            f"token endpoint ({grant}) returned HTTP {exc.response.status_code}",
        )
    if isinstance(exc, httpx.HTTPError):
        return TokenEndpointError(
            f"The app could not reach {ehr_name}'s sign-in service. Try again in a few minutes; "
            "if it keeps happening, tell your EHR support team.",
            f"token endpoint ({grant}) unreachable: {type(exc).__name__}",
        )
    return TokenEndpointError(
        f"{ehr_name}'s sign-in service answered with something the app cannot read. Please "
        "tell the EHR's integration team.",
        f"token endpoint ({grant}) response unreadable: {type(exc).__name__}",
    )


async def exchange_code(
    client: AsyncOAuth2Client,
    token_endpoint: str,
    *,
    code: str,
    code_verifier: str,
    ehr_name: str,
) -> TokenResponse:
    """POST grant_type=authorization_code with the PKCE verifier and client authentication."""
    try:
        raw = await client.fetch_token(
            token_endpoint,
            grant_type="authorization_code",
            code=code,
            code_verifier=code_verifier,
        )
    except (OAuthError, httpx.HTTPError, ValueError) as exc:
        raise _endpoint_failure(exc, ehr_name, "authorization_code") from None
    return parse_token_response(dict(raw), ehr_name)


async def refresh_tokens(
    client: AsyncOAuth2Client, token_endpoint: str, *, refresh_token: str, ehr_name: str
) -> TokenResponse:
    """POST grant_type=refresh_token (no `scope`: asking again for what was granted is
    implied, and anything else might not be a strict subset)."""
    try:
        raw = await client.refresh_token(token_endpoint, refresh_token=refresh_token)
    except (OAuthError, httpx.HTTPError, ValueError) as exc:
        raise _endpoint_failure(exc, ehr_name, "refresh_token") from None
    return parse_token_response(dict(raw), ehr_name)


# -- id_token -----------------------------------------------------------------------------


class UnknownSigningKeyError(Exception):
    """The id_token's `kid` is not in the key set (the server may have rotated its keys)."""


@dataclass(frozen=True, slots=True)
class IdTokenClaims:
    issuer: str
    subject: str
    fhir_user: str | None


def _rejected(detail: str) -> IdTokenError:
    return IdTokenError(
        "The EHR's confirmation of who is signed in could not be verified, so the app stopped "
        "for safety. Open the app from the EHR again; if it keeps happening, tell the EHR's "
        "integration team (technical detail below).",
        f"id_token rejected: {detail}",
    )


def id_token_issuer(id_token: str) -> str:
    """The `iss` claim, read before verification only to find the keys to verify with."""
    try:
        claims = json.loads(jws.extract_compact(id_token.encode()).payload)
    except (JoseError, ValueError):
        raise _rejected("not a JWS compact serialisation") from None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    if not isinstance(issuer, str) or not issuer:
        raise _rejected("no iss claim")
    return issuer


def validate_id_token(
    id_token: str,
    key_set: KeySet,
    *,
    issuer: str,
    client_id: str,
    now: float,
) -> IdTokenClaims:
    """Verify signature, `iss`, `aud` (and `azp`), `exp`, `iat`; raises IdTokenError."""
    try:
        header = jws.extract_compact(id_token.encode()).headers()
    except (JoseError, ValueError):
        raise _rejected("not a JWS compact serialisation") from None
    if header.get("alg") not in ID_TOKEN_ALGORITHMS:
        raise _rejected(
            f"signature algorithm {safe_error_code(str(header.get('alg')))} not accepted"
        )
    try:
        claims = jwt.decode(id_token, key_set, algorithms=list(ID_TOKEN_ALGORITHMS)).claims
    except InvalidKeyIdError:
        raise UnknownSigningKeyError(str(header.get("kid"))) from None
    except BadSignatureError:
        raise _rejected("signature does not verify with the server's keys") from None
    except (JoseError, ValueError) as exc:
        raise _rejected(f"cannot be verified ({type(exc).__name__})") from None
    if claims.get("iss") != issuer:
        raise _rejected("iss is not the EHR's issuer")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or client_id not in audiences:
        raise _rejected("aud does not contain this app's client_id")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise _rejected("several audiences but azp is not this app's client_id")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise _rejected("exp missing")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise _rejected("iat missing")
    if exp <= now - CLOCK_SKEW_SECONDS:
        raise _rejected("expired (exp in the past)")
    if iat > now + CLOCK_SKEW_SECONDS:
        raise _rejected("issued in the future (iat)")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise _rejected("sub missing")
    fhir_user = claims.get("fhirUser")
    return IdTokenClaims(
        issuer=issuer,
        subject=subject,
        fhir_user=fhir_user if isinstance(fhir_user, str) and fhir_user else None,
    )
