"""Sandbox EHRs in memory, driven in-process through httpx's ASGITransport."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from plugin.sandbox.app import create_sandbox_app, sandbox_of
from plugin.sandbox.config import SandboxClient, SandboxConfig
from plugin.sandbox.instance import SandboxEhr

BASE = "http://127.0.0.1:8000"
FHIR = f"{BASE}/fhir"
REDIRECT = "http://127.0.0.1:9000/callback"
PUBLIC_CLIENT = SandboxClient(
    client_id="public-app",
    name="Public test app",
    redirect_uris=[REDIRECT],
    launch_url="http://127.0.0.1:9000/launch",
)


@pytest.fixture(scope="session")
def signing_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One RSA key for every sandbox in the run: generating one per test is slow.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("sandbox") / "id-token.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@dataclass
class Sandbox:
    app: FastAPI
    http: httpx.AsyncClient
    ehr: SandboxEhr

    def token(self, scope: str, patient: str | None = "lumbar-candidate", **kw: Any) -> str:
        return self.ehr.issue_access_token("public-app", scope, patient=patient, **kw).token

    def auth(self, scope: str, patient: str | None = "lumbar-candidate") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(scope, patient)}"}


SandboxFactory = Callable[..., Awaitable[Sandbox]]


@pytest.fixture
async def make_sandbox(signing_key_file: Path) -> AsyncIterator[SandboxFactory]:
    opened: list[Sandbox] = []

    async def make(app: Any = None, **overrides: Any) -> Sandbox:
        settings: dict[str, Any] = {
            "base_url": BASE,
            "signing_key_file": signing_key_file,
            "clients": [PUBLIC_CLIENT],
        }
        settings.update(overrides)
        fastapi = create_sandbox_app(SandboxConfig(**settings), app=app)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=fastapi), base_url=BASE)
        sandbox = Sandbox(fastapi, http, sandbox_of(fastapi))
        opened.append(sandbox)
        return sandbox

    yield make
    for sandbox in opened:
        await sandbox.http.aclose()
        await sandbox.ehr.close()


@pytest.fixture
async def sandbox(make_sandbox: SandboxFactory) -> Sandbox:
    return await make_sandbox()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_params(challenge: str, **overrides: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": "public-app",
        "redirect_uri": REDIRECT,
        "scope": "launch/patient openid fhirUser offline_access patient/*.rs",
        "state": secrets.token_urlsafe(24),
        "aud": FHIR,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v != ""}


def redirect_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
