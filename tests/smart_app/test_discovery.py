from typing import Any

import httpx
import pytest
import respx

from smart_app.discovery import (
    DISCOVERY_TTL_SECONDS,
    SmartDiscovery,
    configuration_from_capability_statement,
    parse_smart_configuration,
    smart_configuration_url,
)
from smart_app.errors import DiscoveryError
from tests.smart_app.conftest import FakeClock, registration
from tests.smart_app.fake_ehr import FHIR_BASE, TOKEN_URL, FakeEhr

OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


def capability_statement(**uris: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "rest": [
            {
                "mode": "server",
                "security": {
                    "extension": [
                        {
                            "url": OAUTH_URIS,
                            "extension": [{"url": k, "valueUri": v} for k, v in uris.items()],
                        },
                        {
                            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/capabilities",
                            "valueCode": "launch-ehr",
                        },
                    ]
                },
            }
        ],
    }


def test_discovery_url_is_appended_to_a_base_with_a_path() -> None:
    assert (
        smart_configuration_url("https://h/r4/fhir/")
        == "https://h/r4/fhir/.well-known/smart-configuration"
    )


def test_relative_endpoints_are_resolved_against_the_fhir_base() -> None:
    config = parse_smart_configuration(
        {
            "authorization_endpoint": "auth/authorize",
            "token_endpoint": "/oauth/token",
            "jwks_uri": "https://keys.example.org/jwks",
            "capabilities": [],
        },
        "https://ehr.example.org/r4/fhir",
        "EHR",
    )
    assert config.authorization_endpoint == "https://ehr.example.org/r4/fhir/auth/authorize"
    assert config.token_endpoint == "https://ehr.example.org/oauth/token"
    assert config.jwks_uri == "https://keys.example.org/jwks"


def test_a_configuration_without_token_endpoint_is_named_as_invalid() -> None:
    with pytest.raises(DiscoveryError) as raised:
        parse_smart_configuration({"capabilities": []}, FHIR_BASE, "EHR")
    assert "token_endpoint" in raised.value.detail


def test_capability_statement_oauth_uris_are_read() -> None:
    config = configuration_from_capability_statement(
        capability_statement(authorize="https://a/authorize", token="token"), FHIR_BASE, "EHR"
    )
    assert config.authorization_endpoint == "https://a/authorize"
    assert config.token_endpoint == f"{FHIR_BASE}/token"
    assert config.capabilities == ["launch-ehr"]


def discovery(clock: FakeClock, *, allow_plain_http: bool = False) -> SmartDiscovery:
    return SmartDiscovery(httpx.AsyncClient(), clock, allow_plain_http=allow_plain_http)


async def test_smart_configuration_is_cached_for_a_short_time(
    router: respx.MockRouter, ehr: FakeEhr, clock: FakeClock
) -> None:
    found = discovery(clock)
    first = await found.configuration(registration())
    await found.configuration(registration())
    assert first.token_endpoint == TOKEN_URL
    assert ehr.routes["smart-configuration"].call_count == 1
    assert (
        ehr.routes["smart-configuration"].calls[0].request.headers["accept"] == "application/json"
    )
    clock.advance(DISCOVERY_TTL_SECONDS + 1)
    await found.configuration(registration())
    assert ehr.routes["smart-configuration"].call_count == 2


async def test_falls_back_to_the_capability_statement_only_on_404(
    router: respx.MockRouter, ehr: FakeEhr, clock: FakeClock
) -> None:
    ehr.routes["smart-configuration"].mock(return_value=httpx.Response(404))
    ehr.routes["metadata"].mock(
        return_value=httpx.Response(
            200, json=capability_statement(authorize="https://ehr.example.org/a", token=TOKEN_URL)
        )
    )
    config = await discovery(clock).configuration(registration())
    assert config.token_endpoint == TOKEN_URL
    assert ehr.routes["metadata"].call_count == 1


@pytest.mark.parametrize("status", [500, 503])
async def test_a_server_error_is_an_outage_not_a_reason_to_fall_back(
    router: respx.MockRouter, ehr: FakeEhr, clock: FakeClock, status: int
) -> None:
    ehr.routes["smart-configuration"].mock(return_value=httpx.Response(status))
    with pytest.raises(DiscoveryError) as raised:
        await discovery(clock).configuration(registration())
    assert f"HTTP {status}" in raised.value.detail
    assert ehr.routes["metadata"].call_count == 0


async def test_failures_are_not_cached(
    router: respx.MockRouter, ehr: FakeEhr, clock: FakeClock
) -> None:
    ehr.routes["smart-configuration"].mock(side_effect=httpx.ConnectError("down"))
    found = discovery(clock)
    with pytest.raises(DiscoveryError, match="ConnectError"):
        await found.configuration(registration())
    ehr.routes["smart-configuration"].mock(
        side_effect=lambda request: httpx.Response(200, json=ehr.smart_configuration())
    )
    assert (await found.configuration(registration())).token_endpoint == TOKEN_URL


async def test_plain_http_endpoints_are_refused_in_production(
    router: respx.MockRouter, ehr: FakeEhr, clock: FakeClock
) -> None:
    insecure = ehr.smart_configuration() | {"token_endpoint": "http://ehr.example.org/auth/token"}
    ehr.routes["smart-configuration"].mock(return_value=httpx.Response(200, json=insecure))
    with pytest.raises(DiscoveryError) as raised:
        await discovery(clock).configuration(registration())
    assert "token_endpoint" in raised.value.detail and "not https" in raised.value.detail
    config = await discovery(clock, allow_plain_http=True).configuration(registration())
    assert config.token_endpoint.startswith("http://")


async def test_non_json_configuration_is_a_clear_error(
    router: respx.MockRouter, ehr: FakeEhr, clock: FakeClock
) -> None:
    ehr.routes["smart-configuration"].mock(return_value=httpx.Response(200, text="<html>"))
    with pytest.raises(DiscoveryError, match="did not return JSON"):
        await discovery(clock).configuration(registration())
