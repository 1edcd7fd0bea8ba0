"""The sandbox's discovery documents, pure: SMART's ``.well-known/smart-configuration`` under
the FHIR base, and OpenID Connect's ``.well-known/openid-configuration`` under the issuer."""

from __future__ import annotations

from typing import Any

from plugin.sandbox.auth.grants import ASSERTION_ALGORITHMS
from plugin.sandbox.config import SandboxConfig
from plugin.sandbox.fhir.search_parameters import RESOURCE_TYPES

__all__ = ["CAPABILITIES", "openid_configuration", "scopes_supported", "smart_configuration"]

#: SMART App Launch 2.2 capabilities the sandbox implements.
CAPABILITIES: tuple[str, ...] = (
    "launch-ehr",
    "launch-standalone",
    "authorize-post",
    "client-public",
    "client-confidential-symmetric",
    "client-confidential-asymmetric",
    "context-ehr-patient",
    "context-ehr-encounter",
    "context-standalone-patient",
    "context-banner",
    "context-style",
    "permission-offline",
    "permission-online",
    "permission-patient",
    "permission-user",
    "permission-v1",
    "permission-v2",
    "sso-openid-connect",
)


def scopes_supported() -> list[str]:
    """Scopes worth advertising (not exhaustive: any valid resource scope is understood)."""
    fixed = [
        "openid",
        "fhirUser",
        "launch",
        "launch/patient",
        "launch/encounter",
        "offline_access",
        "online_access",
        "patient/*.cruds",
        "user/*.cruds",
        "patient/*.read",
        "patient/*.write",
        "user/*.read",
        "user/*.write",
    ]
    per_type = [f"patient/{t}.rs" for t in RESOURCE_TYPES] + [
        f"patient/{t}.c" for t in RESOURCE_TYPES
    ]
    return fixed + per_type


def smart_configuration(config: SandboxConfig) -> dict[str, Any]:
    return {
        "issuer": config.issuer,
        "jwks_uri": config.jwks_url,
        "authorization_endpoint": config.authorize_url,
        "token_endpoint": config.token_url,
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "response_types_supported": ["code"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "scopes_supported": scopes_supported(),
        "code_challenge_methods_supported": ["S256"],
        "capabilities": list(CAPABILITIES),
    }


def openid_configuration(config: SandboxConfig) -> dict[str, Any]:
    return {
        "issuer": config.issuer,
        "jwks_uri": config.jwks_url,
        "authorization_endpoint": config.authorize_url,
        "token_endpoint": config.token_url,
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "fhirUser"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nonce", "fhirUser"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
    }
