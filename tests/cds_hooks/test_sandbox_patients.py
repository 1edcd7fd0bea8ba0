"""Every synthetic sandbox patient through order-sign, against the sandbox EHR itself: once with
the chart prefetched (the test plays a CDS client satisfying every template against the
sandbox's FHIR server), once without (our service reads the sandbox's FHIR server with the
access token the call hands over). The sandbox documents the outcome expected per patient when
both attestations are given; without them an otherwise good candidate needs review."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from plugin.candidacy import default_policy
from plugin.cds_hooks.chart_queries import FhirRead, chart_queries, rendered_query
from plugin.cds_hooks.extension import CANDIDACY_EXTENSION_URL
from plugin.cds_hooks.invariants import response_problems
from plugin.sandbox.app import create_sandbox_app, sandbox_of
from plugin.sandbox.config import SandboxClient, SandboxConfig
from plugin.sandbox.instance import SandboxEhr
from plugin.sandbox.synthetic_patients import Scenario, scenarios
from plugin.study.levels import Region
from plugin.terminology import INJECTION_CPT_BY_REGION, disc_snomed_code, system_url
from tests.cds_hooks.conftest import SIGN, AppFactory, CdsApp

pytestmark = pytest.mark.integration

SANDBOX = "http://127.0.0.1:8100"
FHIR = f"{SANDBOX}/fhir"
CLIENT = SandboxClient(client_id="discography-cds", redirect_uris=[f"{SANDBOX}/unused"])
QUERIES = chart_queries(default_policy())
BOTH = ["imaging-inconclusive", "decision-hinges"]


@dataclass
class Ehr:
    http: httpx.AsyncClient
    ehr: SandboxEhr
    transport: httpx.ASGITransport

    def token(self, patient: str) -> str:
        return self.ehr.issue_access_token("discography-cds", "patient/*.rs", patient=patient).token


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("sandbox") / "key.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@pytest.fixture
async def ehr(signing_key: Path, sqlite_connections_closed: None) -> AsyncIterator[Ehr]:
    # Requests `sqlite_connections_closed` so that its check runs after this closes the EHR.
    app = create_sandbox_app(
        SandboxConfig(base_url=SANDBOX, signing_key_file=signing_key, clients=[CLIENT])
    )
    transport = httpx.ASGITransport(app=app)
    http = httpx.AsyncClient(transport=transport, base_url=SANDBOX)
    yield Ehr(http, sandbox_of(app), transport)
    await http.aclose()
    await sandbox_of(app).close()


def draft_order(case: Scenario, attested: bool) -> dict[str, Any]:
    order: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": f"draft-{case.patient_id}",
        "status": "draft",
        "intent": "order",
        "code": {
            "coding": [
                {"system": system_url("cpt"), "code": INJECTION_CPT_BY_REGION[Region(case.region)]}
            ]
        },
        "subject": {"reference": f"Patient/{case.patient_id}"},
        "bodySite": [
            {"coding": [{"system": system_url("snomed"), "code": disc_snomed_code(level).code}]}
            for level in case.levels
        ],
    }
    if attested:
        order["extension"] = [
            {
                "url": CANDIDACY_EXTENSION_URL,
                "extension": [{"url": "attestation", "valueCode": a} for a in BOTH],
            }
        ]
    return order


async def prefetch_from(ehr: Ehr, patient: str) -> dict[str, Any]:
    """What a CDS client sends after running every template against its FHIR server."""
    auth = {"Authorization": f"Bearer {ehr.token(patient)}"}
    out: dict[str, Any] = {}
    for query in QUERIES:
        request = rendered_query(query, {"patientId": patient})
        if isinstance(request, FhirRead):
            response = await ehr.http.get(
                f"{FHIR}/{request.resource_type}/{request.resource_id}", headers=auth
            )
            out[query.key] = response.json() if response.status_code == 200 else None
            continue
        entries: list[dict[str, Any]] = []
        url: str | None = f"{FHIR}/{request.resource_type}"
        params: Any = list(request.params)
        while url is not None:
            page = (await ehr.http.get(url, params=params, headers=auth)).json()
            entries += page.get("entry", [])
            url = next(
                (link["url"] for link in page.get("link", []) if link["relation"] == "next"), None
            )
            params = None
        out[query.key] = {"resourceType": "Bundle", "type": "searchset", "entry": entries}
    return out


def call(case: Scenario, attested: bool, **extra: Any) -> dict[str, Any]:
    return {
        "hook": "order-sign",
        "hookInstance": "0f1d6b4e-2a57-4d39-9a55-5f7c0c3b7e21",
        "context": {
            "userId": "Practitioner/spine-proceduralist",
            "patientId": case.patient_id,
            "draftOrders": {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": draft_order(case, attested)}],
            },
        },
        **extra,
    }


def expected(case: Scenario, attested: bool) -> str:
    if attested or case.expected_outcome != "candidate":
        return case.expected_outcome
    return "needs-review"  # the two attestation criteria stay unknown


def outcome_of(body: dict[str, Any]) -> str:
    assert response_problems(body) == []
    (action,) = body["systemActions"]
    ours = action["resource"]["extension"][-1]
    return str(next(p["valueCode"] for p in ours["extension"] if p["url"] == "outcome"))


@pytest.mark.parametrize("attested", [True, False], ids=["attested", "not-attested"])
async def test_every_patient_with_and_without_prefetch(
    ehr: Ehr, make_app: AppFactory, attested: bool
) -> None:
    cds: CdsApp = await make_app(transport=ehr.transport)
    seen: dict[str, tuple[str, str]] = {}
    for case in scenarios():
        with_prefetch = await cds.call(
            SIGN, call(case, attested, prefetch=await prefetch_from(ehr, case.patient_id))
        )
        authorization = {
            "access_token": ehr.token(case.patient_id),
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.rs",
            "subject": "discography-cds",
        }
        fetched = await cds.call(
            SIGN, call(case, attested, fhirServer=FHIR, fhirAuthorization=authorization)
        )
        assert with_prefetch.status_code == 200, with_prefetch.text
        assert fetched.status_code == 200, fetched.text
        seen[case.patient_id] = (outcome_of(with_prefetch.json()), outcome_of(fetched.json()))
        cards = [json.dumps(r.json()["cards"][0]["detail"]) for r in (with_prefetch, fetched)]
        assert cards[0] == cards[1], case.patient_id
    assert seen == {
        case.patient_id: (expected(case, attested), expected(case, attested))
        for case in scenarios()
    }
