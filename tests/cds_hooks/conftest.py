"""CDS Hooks test kit: a registered CDS client with ES384 and RS384 keys, JWT minting, settings
on a temporary database, the app driven in-process, and draft orders and charts to call it with.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from plugin.cds_hooks.router import create_cds_app
from plugin.terminology import disc_snomed_code, system_url
from smart_app.settings import CdsClientRegistration, Settings

PUBLIC_URL = "http://127.0.0.1:8000"
CLIENT_ISS = "https://ehr.example.org/fhir"
URL_CLIENT_ISS = "https://other-ehr.example.org"
URL_CLIENT_JWKS = "https://other-ehr.example.org/.well-known/jwks.json"
FHIR_SERVER = "https://ehr.example.org/fhir"
PATIENT_ID = "pt-1"
USER_ID = "Practitioner/dr-1"
SIGN = "discography-candidacy-order-sign"
SELECT = "discography-candidacy-order-select"
ALL_ALGORITHMS = ["ES384", "RS384", "RS256", "HS256", "ES256"]


@dataclass
class ClientKeysForTests:
    ec: ECKey
    rsa: RSAKey

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.ec.as_dict(private=False), self.rsa.as_dict(private=False)]}


@pytest.fixture(scope="session")
def client_keys() -> ClientKeysForTests:
    # Generated once per run: RSA generation is slow.
    return ClientKeysForTests(
        ec=ECKey.generate_key("P-384", parameters={"kid": "ec-1"}),
        rsa=RSAKey.generate_key(2048, parameters={"kid": "rsa-1"}),
    )


@dataclass
class Clock:
    now: float = field(default_factory=time.time)

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def mint(
    keys: ClientKeysForTests,
    aud: str,
    *,
    now: float,
    alg: str = "ES384",
    iss: str = CLIENT_ISS,
    header: dict[str, Any] | None = None,
    claims: dict[str, Any] | None = None,
    key: Any = None,
) -> str:
    """A CDS client JWT for `aud`, valid for 5 minutes from `now`."""
    kid = "ec-1" if alg.startswith("ES") else "rsa-1"
    head: dict[str, Any] = {"alg": alg, "typ": "JWT", "kid": kid}
    head.update(header or {})
    head = {k: v for k, v in head.items() if v is not None}
    body: dict[str, Any] = {
        "iss": iss,
        "aud": aud,
        "iat": int(now),
        "exp": int(now) + 300,
        "jti": str(uuid.uuid4()),
    }
    body.update(claims or {})
    body = {k: v for k, v in body.items() if v is not None}
    signing = key if key is not None else (keys.ec if alg.startswith("ES") else keys.rsa)
    return jwt.encode(head, body, signing, algorithms=ALL_ALGORITHMS)


@pytest.fixture
def jwks_file(tmp_path: Path, client_keys: ClientKeysForTests) -> Path:
    path = tmp_path / "client-jwks.json"
    path.write_text(json.dumps(client_keys.jwks()), encoding="utf-8")
    return path


@pytest.fixture
def settings(tmp_path: Path, jwks_file: Path) -> Settings:
    return Settings(
        public_url=PUBLIC_URL,
        data_dir=tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'cds.sqlite3'}",
        cds_client=[
            CdsClientRegistration(iss=CLIENT_ISS, jwks_file=jwks_file),
            CdsClientRegistration(iss=URL_CLIENT_ISS, jwks_url=URL_CLIENT_JWKS),
        ],
    )


@dataclass
class CdsApp:
    http: httpx.AsyncClient
    keys: ClientKeysForTests
    clock: Clock
    app: Any

    def auth(self, path: str, **kw: Any) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {mint(self.keys, PUBLIC_URL + path, now=self.clock(), **kw)}"
        }

    async def discovery(self) -> httpx.Response:
        return await self.http.get("/cds-services", headers=self.auth("/cds-services"))

    async def call(self, service_id: str, body: Any, **kw: Any) -> httpx.Response:
        path = f"/cds-services/{service_id}"
        content = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return await self.http.post(
            path,
            content=content,
            headers={**self.auth(path, **kw), "Content-Type": "application/json"},
        )

    async def feedback(self, service_id: str, body: Any) -> httpx.Response:
        path = f"/cds-services/{service_id}/feedback"
        return await self.http.post(path, json=body, headers=self.auth(path))


AppFactory = Callable[..., Any]


@pytest.fixture
async def make_app(
    settings: Settings,
    client_keys: ClientKeysForTests,
    clock: Clock,
    sqlite_connections_closed: None,
) -> AsyncIterator[AppFactory]:
    """Builds CDS apps; after the test closes them, as the app's shutdown does, and then checks
    that closing left no SQLite connection open (`sqlite_connections_closed`)."""
    opened: list[CdsApp] = []

    async def make(transport: httpx.AsyncBaseTransport | None = None, **kw: Any) -> CdsApp:
        app = create_cds_app(kw.pop("settings", settings), transport=transport, clock=clock, **kw)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL)
        made = CdsApp(http, client_keys, clock, app)
        opened.append(made)
        return made

    yield make
    for made in opened:
        await made.http.aclose()
        await made.app.state.cds_runtime.aclose()


@pytest.fixture
async def cds(make_app: AppFactory) -> CdsApp:
    made: CdsApp = await make_app()
    return made


def discography_order(
    order_id: str = "draft-1",
    *,
    cpt: str = "62290",
    levels: tuple[str, ...] = ("L4-L5", "L5-S1"),
    patient: str = PATIENT_ID,
    extension: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    order: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "code": {"coding": [{"system": system_url("cpt"), "code": cpt}], "text": "Discography"},
        "subject": {"reference": f"Patient/{patient}"},
        "bodySite": [
            {"coding": [{"system": system_url("snomed"), "code": disc_snomed_code(level).code}]}
            for level in levels
        ],
    }
    if extension is not None:
        order["extension"] = extension
    return order


def other_order(order_id: str = "draft-mri") -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "code": {"coding": [{"system": system_url("loinc"), "code": "24968-0"}]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
    }


def hook_call(
    hook: str = "order-sign",
    drafts: list[dict[str, Any]] | None = None,
    *,
    prefetch: dict[str, Any] | None = None,
    fhir: bool = False,
    selections: list[str] | None = None,
    bundle_type: str | None = "collection",
) -> dict[str, Any]:
    orders = drafts if drafts is not None else [discography_order()]
    bundle: dict[str, Any] = {"resourceType": "Bundle", "entry": [{"resource": o} for o in orders]}
    if bundle_type is not None:
        bundle["type"] = bundle_type
    context: dict[str, Any] = {"userId": USER_ID, "patientId": PATIENT_ID, "draftOrders": bundle}
    if hook == "order-select":
        context["selections"] = selections or [f"ServiceRequest/{orders[0]['id']}"]
    body: dict[str, Any] = {
        "hook": hook,
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": context,
    }
    if fhir:
        body["fhirServer"] = FHIR_SERVER
        body["fhirAuthorization"] = {
            "access_token": "opaque-token-for-tests",
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "discography-cds",
            "patient": PATIENT_ID,
        }
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body
