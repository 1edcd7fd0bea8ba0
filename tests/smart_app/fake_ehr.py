"""A healthy SMART EHR simulated with respx: smart-configuration, authorize (driven by the
test), token (PKCE, client authentication, single-use codes and refresh tokens), JWKS,
openid-configuration, Patient and Practitioner reads. Tests break one part at a time."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import respx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

ORIGIN = "https://ehr.example.org"
FHIR_BASE = f"{ORIGIN}/fhir"
AUTH_BASE = f"{ORIGIN}/auth"
AUTHORIZE_URL = f"{AUTH_BASE}/authorize"
TOKEN_URL = f"{AUTH_BASE}/token"
JWKS_URL = f"{AUTH_BASE}/jwks"
STYLE_URL = f"{ORIGIN}/smart-style.json"
CLIENT_ID = "discogram-app"
CLIENT_SECRET = "s3cret-value-for-tests"
PATIENT_ID = "pat-7f3a9c"  # distinctive, so a log search for it cannot match by accident
PRACTITIONER_ID = "prac-51b2"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

V2_CAPABILITIES = [
    "launch-ehr",
    "launch-standalone",
    "client-public",
    "client-confidential-symmetric",
    "client-confidential-asymmetric",
    "sso-openid-connect",
    "context-ehr-patient",
    "context-standalone-patient",
    "context-banner",
    "context-style",
    "permission-offline",
    "permission-patient",
    "permission-v1",
    "permission-v2",
]


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    scope: str
    code_challenge: str
    launch: str | None
    used: bool = False


@dataclass
class FakeEhr:
    clock: Any  # FakeClock
    server_key: RSAKey
    client_id: str = CLIENT_ID
    client_auth: str = "public"  # public | client_secret_basic | private_key_jwt
    client_jwks: dict[str, Any] | None = None  # the app's JWK Set, for private_key_jwt
    capabilities: list[str] = field(default_factory=lambda: list(V2_CAPABILITIES))
    granted_scope: str | None = None  # None: grant what was asked
    expires_in: int = 3600
    issue_refresh_tokens: bool = True
    need_patient_banner: bool = True
    smart_style_url: str | None = None
    token_patient: str = PATIENT_ID
    id_token_audience: str | None = None  # None: the client_id
    id_token_key: RSAKey | None = None  # None: the server key
    fhir_user: str = f"{FHIR_BASE}/Practitioner/{PRACTITIONER_ID}"
    patient_resource_id: str = PATIENT_ID
    #: further patients the EHR holds: a read of one of them answers with that patient
    other_patients: set[str] = field(default_factory=set)
    grants: dict[str, Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, tuple[Grant, bool]] = field(default_factory=dict)
    access_tokens: dict[str, float] = field(default_factory=dict)  # token -> expires at
    seen_jti: set[str] = field(default_factory=set)
    assertions: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    issued: list[dict[str, Any]] = field(default_factory=list)
    routes: dict[str, respx.Route] = field(default_factory=dict)

    # -- the parts a test may break --------------------------------------------------------

    def smart_configuration(self) -> dict[str, Any]:
        return {
            "issuer": AUTH_BASE,
            "jwks_uri": JWKS_URL,
            "authorization_endpoint": AUTHORIZE_URL,
            "token_endpoint": TOKEN_URL,
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "scopes_supported": ["openid", "fhirUser", "launch", "launch/patient"],
            "response_types_supported": ["code"],
            "capabilities": self.capabilities,
            "code_challenge_methods_supported": ["S256"],
        }

    def install(self, router: respx.MockRouter) -> None:
        self.routes["smart-configuration"] = router.get(
            f"{FHIR_BASE}/.well-known/smart-configuration"
        ).mock(side_effect=lambda request: httpx.Response(200, json=self.smart_configuration()))
        self.routes["metadata"] = router.get(f"{FHIR_BASE}/metadata").mock(
            return_value=httpx.Response(404)
        )
        self.routes["token"] = router.post(TOKEN_URL).mock(side_effect=self._token)
        self.routes["jwks"] = router.get(JWKS_URL).mock(
            side_effect=lambda request: httpx.Response(
                200, json={"keys": [self.server_key.as_dict(private=False)]}
            )
        )
        self.routes["openid-configuration"] = router.get(
            f"{AUTH_BASE}/.well-known/openid-configuration"
        ).mock(
            side_effect=lambda request: httpx.Response(
                200, json={"issuer": AUTH_BASE, "jwks_uri": JWKS_URL}
            )
        )
        self.routes["patient"] = router.get(url__regex=rf"{FHIR_BASE}/Patient/[^/]+$").mock(
            side_effect=self._patient
        )
        self.routes["practitioner"] = router.get(
            url__regex=rf"{FHIR_BASE}/Practitioner/[^/]+$"
        ).mock(side_effect=self._practitioner)
        self.routes["style"] = router.get(STYLE_URL).mock(
            return_value=httpx.Response(
                200,
                json={
                    "color_background": "#edeae3",
                    "color_highlight": "#69b5ce",
                    "dim_border_radius": "6px",
                    "font_family_body": "Georgia, serif",
                    "color_text": "red;} body{display:none",
                },
            )
        )

    # -- the authorization endpoint, driven by the test --------------------------------------

    def authorize(self, authorize_url: str) -> dict[str, str]:
        """Act as the user approving: check the request and return the callback query."""
        parts = urlsplit(authorize_url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == AUTHORIZE_URL
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert query["response_type"] == "code"
        assert query["client_id"] == self.client_id
        assert query["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(
            client_id=query["client_id"],
            redirect_uri=query["redirect_uri"],
            scope=self.granted_scope if self.granted_scope is not None else query["scope"],
            code_challenge=query["code_challenge"],
            launch=query.get("launch"),
        )
        return {"code": code, "state": query["state"]}

    # -- token endpoint ----------------------------------------------------------------------

    def _error(self, status: int, error: str) -> httpx.Response:
        return httpx.Response(status, json={"error": error})

    def _authenticate(self, request: httpx.Request, form: dict[str, str]) -> str | None:
        if self.client_auth == "public":
            return None if form.get("client_id") == self.client_id else "invalid_client"
        if self.client_auth == "client_secret_basic":
            expected = base64.b64encode(f"{self.client_id}:{CLIENT_SECRET}".encode()).decode()
            ok = request.headers.get("authorization") == f"Basic {expected}"
            return None if ok and "client_id" not in form else "invalid_client"
        if form.get("client_assertion_type") != ASSERTION_TYPE or self.client_jwks is None:
            return "invalid_client"
        assertion = form.get("client_assertion", "")
        try:
            token = jwt.decode(
                assertion,
                KeySet.import_key_set(self.client_jwks),
                algorithms=["RS384", "ES384"],
            )
        except (JoseError, ValueError):
            return "invalid_client"
        header, claims = dict(token.header), dict(token.claims)
        self.assertions.append((header, claims))
        now = self.clock()
        if (
            header.get("typ") != "JWT"
            or claims.get("iss") != self.client_id
            or claims.get("sub") != self.client_id
            or claims.get("aud") != TOKEN_URL
            or not now < claims.get("exp", 0) <= now + 300
            or claims.get("jti") in self.seen_jti
        ):
            return "invalid_client"
        self.seen_jti.add(claims["jti"])
        return None

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.token_requests.append(form)
        failure = self._authenticate(request, form)
        if failure is not None:
            return self._error(401, failure)
        if form.get("grant_type") == "authorization_code":
            grant = self.grants.get(form.get("code", ""))
            if grant is None or grant.used:
                return self._error(400, "invalid_grant")
            grant.used = True
            if form.get("redirect_uri") != grant.redirect_uri:
                return self._error(400, "invalid_grant")
            if s256(form.get("code_verifier", "")) != grant.code_challenge:
                return self._error(400, "invalid_grant")
            return httpx.Response(200, json=self._issue(grant, with_id_token=True))
        if form.get("grant_type") == "refresh_token":
            entry = self.refresh_tokens.get(form.get("refresh_token", ""))
            if entry is None or entry[1]:
                return self._error(400, "invalid_grant")  # unknown or reused
            self.refresh_tokens[form["refresh_token"]] = (entry[0], True)
            return httpx.Response(200, json=self._issue(entry[0], with_id_token=False))
        return self._error(400, "unsupported_grant_type")

    def _issue(self, grant: Grant, *, with_id_token: bool) -> dict[str, Any]:
        access = "at-" + secrets.token_urlsafe(24)
        self.access_tokens[access] = self.clock() + self.expires_in
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": grant.scope,
            "patient": self.token_patient,
            "need_patient_banner": self.need_patient_banner,
        }
        if self.smart_style_url is not None:
            body["smart_style_url"] = self.smart_style_url
        if self.issue_refresh_tokens:
            refresh = "rt-" + secrets.token_urlsafe(24)
            self.refresh_tokens[refresh] = (grant, False)
            body["refresh_token"] = refresh
        if with_id_token and "openid" in grant.scope.split():
            body["id_token"] = self.id_token()
        self.issued.append(body)
        return body

    def id_token(self, **changes: Any) -> str:
        now = int(self.clock())
        claims = {
            "iss": AUTH_BASE,
            "sub": "user-1",
            "aud": self.id_token_audience or self.client_id,
            "exp": now + 300,
            "iat": now,
            "fhirUser": self.fhir_user,
            **changes,
        }
        key = self.id_token_key or self.server_key
        return jwt.encode({"alg": "RS256", "kid": key.kid or "ehr-key"}, claims, key)

    # -- FHIR ------------------------------------------------------------------------------

    def _authorised(self, request: httpx.Request) -> bool:
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ")
        expires = self.access_tokens.get(token)
        return header.startswith("Bearer ") and expires is not None and expires > self.clock()

    def _patient(self, request: httpx.Request) -> httpx.Response:
        if not self._authorised(request):
            return httpx.Response(401, json=_outcome("login", "token expired"))
        requested = request.url.path.rsplit("/", 1)[-1]
        return httpx.Response(
            200,
            json={
                "resourceType": "Patient",
                "id": requested if requested in self.other_patients else self.patient_resource_id,
                "name": [{"use": "official", "family": "Testperson", "given": ["Ada", "Q."]}],
                "birthDate": "1971-04-09",
                "gender": "female",
            },
        )

    def _practitioner(self, request: httpx.Request) -> httpx.Response:
        if not self._authorised(request):
            return httpx.Response(401, json=_outcome("login", "token expired"))
        return httpx.Response(
            200,
            json={
                "resourceType": "Practitioner",
                "id": PRACTITIONER_ID,
                "name": [{"family": "Okafor", "given": ["Chidi"], "prefix": ["Dr."]}],
            },
        )


def _outcome(code: str, text: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text}],
    }
