"""The OAuth 2.0 grants the sandbox offers, on authlib's server components, with SMART's rules:
authorization code with PKCE S256 required of every client, `aud` the FHIR base, `state`
required, EHR `launch` ids bound to their context; refresh tokens rotated on every use, a
reused one revoking the grant; `private_key_jwt` client assertions signed RS384 or ES384,
`aud` the token endpoint, `exp` at most five minutes ahead, `jti` never twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
)
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from joserfc import jws, jwt
from joserfc.errors import JoseError

from plugin.sandbox.auth.client_keys import ClientKeyError
from plugin.sandbox.auth.records import AuthorizationCode, AuthorizationSubject, Grant

if TYPE_CHECKING:
    from plugin.sandbox.auth.server import SandboxAuthorizationServer

__all__ = [
    "ASSERTION_ALGORITHMS",
    "PrivateKeyJwt",
    "RotatingRefreshTokenGrant",
    "S256CodeChallenge",
    "SmartAuthorizationCodeGrant",
]

#: Client assertion algorithms SMART asks servers to support (§Asymmetric).
ASSERTION_ALGORITHMS = ("RS384", "ES384")
_MAX_ASSERTION_LIFETIME = timedelta(minutes=5)
_TOKEN_AUTH_METHODS = ["private_key_jwt", "client_secret_basic", "none"]


class S256CodeChallenge(CodeChallenge):  # type: ignore[misc]
    """PKCE with S256 only, required of every client (SMART: servers SHALL NOT allow plain)."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("code_challenge is required (PKCE with S256)")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)


class SmartAuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = _TOKEN_AUTH_METHODS

    @property
    def sandbox(self) -> SandboxAuthorizationServer:
        server: SandboxAuthorizationServer = self.server
        return server

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        data = self.request.payload.data
        try:
            self._validate_smart_request(data)
        except (InvalidRequestError, InvalidScopeError) as error:
            error.redirect_uri = redirect_uri
            raise
        return redirect_uri

    def _validate_smart_request(self, data: Any) -> None:
        if not data.get("state"):
            raise InvalidRequestError("state is required")
        aud = str(data.get("aud") or "").rstrip("/")
        if aud != self.sandbox.config.fhir_base:
            raise InvalidRequestError("aud must be the FHIR base URL of this server")
        if not self.request.scope:
            raise InvalidScopeError("none of the requested scopes can be granted")
        requested = str(data.get("scope") or "").split()
        launch_id = data.get("launch")
        if launch_id:
            if "launch" not in requested:
                raise InvalidScopeError("a launch parameter needs the launch scope")
            launch = self.sandbox.records.launch(str(launch_id))
            if launch is None or launch.client_id != self.request.client.get_client_id():
                raise InvalidRequestError("launch is unknown, expired or for another client")
        elif "launch" in requested:
            raise InvalidRequestError("the launch scope needs the launch parameter")

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        subject: AuthorizationSubject = request.user
        lifetime = timedelta(seconds=self.sandbox.config.authorization_code_seconds)
        self.sandbox.records.save_code(
            AuthorizationCode(
                code=code,
                client_id=request.client.get_client_id(),
                redirect_uri=str(request.payload.redirect_uri),
                scope=str(request.scope),
                code_challenge=str(data["code_challenge"]),
                code_challenge_method=str(data["code_challenge_method"]),
                subject=subject,
                expires_at=self.sandbox.clock() + lifetime,
            )
        )

    def query_authorization_code(self, code: str, client: Any) -> AuthorizationCode | None:
        return self.sandbox.records.find_code(code, client.get_client_id())

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Grant:
        grant = self.sandbox.records.new_grant(
            authorization_code.client_id, authorization_code.subject, authorization_code.scope
        )
        self._grant = grant
        return grant

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        self.sandbox.records.use_code(authorization_code, self._grant.id)


class RotatingRefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    """Every refresh returns a new refresh token and retires the one presented; presenting a
    retired one revokes the whole grant (the token was probably stolen)."""

    TOKEN_ENDPOINT_AUTH_METHODS = _TOKEN_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    @property
    def sandbox(self) -> SandboxAuthorizationServer:
        server: SandboxAuthorizationServer = self.server
        return server

    def authenticate_refresh_token(self, refresh_token: str) -> Any:
        return self.sandbox.records.refresh_token(refresh_token)

    def authenticate_user(self, refresh_token: Any) -> Grant | None:
        return self.sandbox.records.grant(refresh_token.grant_id)

    def revoke_old_credential(self, refresh_token: Any) -> None:
        refresh_token.used = True


class PrivateKeyJwt(JWTBearerClientAssertion):  # type: ignore[misc]
    """`private_key_jwt` client authentication as SMART profiles it."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, server: SandboxAuthorizationServer) -> None:
        super().__init__(validate_jti=True, leeway=30)
        self._server = server

    def get_audiences(self) -> list[str]:
        return [self._server.config.token_url]

    def validate_jti(self, claims: Any, jti: Any) -> bool:
        exp = datetime.fromtimestamp(int(claims["exp"]), UTC)
        return self._server.records.first_use_of_assertion(str(claims["sub"]), str(jti), exp)

    def resolve_client_public_key(self, client: Any) -> Any:
        try:
            return self._server.client_keys.key_set(client.registration)
        except ClientKeyError as exc:
            raise InvalidClientError(description=str(exc).replace('"', "'")) from None

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> Any:
        try:
            header = jws.extract_compact(assertion.encode()).headers()
        except JoseError:
            raise InvalidClientError(description="client_assertion is not a JWS") from None
        if header.get("alg") not in ASSERTION_ALGORITHMS:
            raise InvalidClientError(description="client_assertion alg must be RS384 or ES384")
        if header.get("typ") != "JWT":
            raise InvalidClientError(description="client_assertion typ must be JWT")
        if not header.get("kid"):
            raise InvalidClientError(description="client_assertion must name its key (kid)")
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=list(ASSERTION_ALGORITHMS))
        except JoseError as exc:
            raise InvalidClientError(description=f"client_assertion: {exc.error}") from None
        claims = token.claims
        jku = header.get("jku")
        client = self._server.query_client(str(claims.get("sub")))
        if jku is not None and (client is None or jku != client.registration.jwks_url):
            raise InvalidClientError(description="client_assertion jku is not the registered URL")
        self.verify_claims(claims)
        ahead = datetime.fromtimestamp(int(claims["exp"]), UTC) - self._server.clock()
        if ahead > _MAX_ASSERTION_LIFETIME + timedelta(seconds=self.leeway):
            raise InvalidClientError(
                description="client_assertion exp must be at most five minutes ahead"
            )
        return claims
