"""authlib's AuthorizationServer for Starlette/FastAPI, issuing SMART token responses.

authlib ships no Starlette server integration, so this module supplies what a framework
integration must: turning a request into authlib's `OAuth2Request`, authlib's
``(status, body, headers)`` into a Starlette response, and a token generator. Because authlib
is synchronous, the route reads the body first and hands over an `IncomingRequest`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.requests import JsonPayload, JsonRequest, OAuth2Payload
from starlette.responses import JSONResponse, Response

from plugin.sandbox.auth.client_keys import ClientKeys
from plugin.sandbox.auth.clients import RegisteredClient
from plugin.sandbox.auth.grants import (
    PrivateKeyJwt,
    RotatingRefreshTokenGrant,
    S256CodeChallenge,
    SmartAuthorizationCodeGrant,
)
from plugin.sandbox.auth.id_token import IdTokenSigner
from plugin.sandbox.auth.records import AuthorizationRecords, Grant
from plugin.sandbox.auth.scopes import REFRESH_SCOPES
from plugin.sandbox.clock import Clock
from plugin.sandbox.config import SandboxConfig

__all__ = ["IncomingRequest", "SandboxAuthorizationServer"]


@dataclass(frozen=True, slots=True)
class IncomingRequest:
    """A request, already read, in the shape authlib needs."""

    method: str
    uri: str  # as the client addressed it, under the sandbox's configured origin
    headers: Mapping[str, str]  # case-insensitive when it comes from Starlette
    params: list[tuple[str, str]]  # query string, then form fields
    json: Any = None


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, params: list[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for name, value in params:
            self._datalist[name].append(value)
        self._data = {name: values[0] for name, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class _OAuth2Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, incoming: IncomingRequest) -> None:
        super().__init__(method=incoming.method, uri=incoming.uri, headers=incoming.headers)
        self.payload = _Payload(incoming.params)

    @property
    def args(self) -> dict[str, str]:
        return dict(self.payload.data)

    @property
    def form(self) -> dict[str, str]:
        return dict(self.payload.data)


class _JsonPayload(JsonPayload):  # type: ignore[misc]
    def __init__(self, data: Any) -> None:
        self._json = data

    @property
    def data(self) -> Any:
        return self._json


class SandboxAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(
        self,
        config: SandboxConfig,
        records: AuthorizationRecords,
        client_keys: ClientKeys,
        signer: IdTokenSigner,
        clock: Clock,
    ) -> None:
        super().__init__(scopes_supported=None)
        self.config = config
        self.records = records
        self.client_keys = client_keys
        self.signer = signer
        self.clock = clock
        self._clients = {
            c.client_id: RegisteredClient(c, config.withheld_scopes) for c in config.clients
        }
        self.register_grant(SmartAuthorizationCodeGrant, [S256CodeChallenge(required=True)])
        self.register_grant(RotatingRefreshTokenGrant)
        self.register_client_auth_method(PrivateKeyJwt.CLIENT_AUTH_METHOD, PrivateKeyJwt(self))
        self.register_token_generator("default", self._token_response)

    # -- what a framework integration supplies -----------------------------------------

    def query_client(self, client_id: str) -> RegisteredClient | None:
        return self._clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        """Nothing to do: `_token_response` records tokens as it creates them."""

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        return _OAuth2Request(request)

    def create_json_request(self, request: IncomingRequest) -> JsonRequest:
        json_request = JsonRequest(request.method, request.uri, request.headers)
        json_request.payload = _JsonPayload(request.json)
        return json_request

    def handle_response(self, status: int, body: Any, headers: Any) -> Response:
        header_map = {str(k): str(v) for k, v in (headers or [])}
        if isinstance(body, dict):
            return JSONResponse(body, status_code=status, headers=header_map)
        return Response(body or b"", status_code=status, headers=header_map)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """authlib's hook for framework signals; the sandbox listens to none."""

    def validate_requested_scope(self, scope: str | None) -> None:
        """Unknown scopes are dropped from the grant rather than refused (as EHRs do);
        `RegisteredClient.allowed_scopes` decides."""

    # -- SMART token response ------------------------------------------------------------

    def _token_response(
        self,
        grant_type: str,
        client: RegisteredClient,
        user: Grant | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        assert user is not None  # both grants resolve the grant before asking for tokens
        granted = scope or ""
        lifetime = expires_in or self.config.access_token_seconds
        access = self.records.issue_access_token(user, granted, timedelta(seconds=lifetime))
        response: dict[str, Any] = {
            "access_token": access.token,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "scope": granted,
        }
        scopes = set(granted.split())
        if include_refresh_token and scopes & REFRESH_SCOPES:
            refresh = self.records.issue_refresh_token(
                user, granted, timedelta(seconds=self.config.refresh_token_seconds)
            )
            response["refresh_token"] = refresh.token
        subject = user.subject
        if subject.patient is not None:
            response["patient"] = subject.patient
        if subject.encounter is not None:
            response["encounter"] = subject.encounter
        if subject.app_context is not None:
            # CDS Hooks §Link: the card's appContext reaches the app with the token.
            response["appContext"] = subject.app_context
        response["need_patient_banner"] = self.config.need_patient_banner
        response["smart_style_url"] = self.config.smart_style_url
        if grant_type == "authorization_code" and {"openid", "fhirUser"} <= scopes:
            response["id_token"] = self.signer.sign(
                issuer=self.config.issuer,
                subject=subject.user,
                audience=client.get_client_id(),
                fhir_user=f"{self.config.fhir_base}/Practitioner/{subject.user}",
                now=self.clock(),
                nonce=subject.nonce,
            )
        return response
