import httpx
import pytest
import respx
from joserfc.jwk import RSAKey

from smart_app.discovery import parse_smart_configuration
from smart_app.errors import IdTokenError
from smart_app.openid import IdTokenVerifier
from tests.smart_app.conftest import FakeClock, registration
from tests.smart_app.fake_ehr import AUTH_BASE, FHIR_BASE, JWKS_URL, FakeEhr


def verifier(clock: FakeClock) -> IdTokenVerifier:
    return IdTokenVerifier(httpx.AsyncClient(), clock, allow_plain_http=False)


async def verify(
    ehr: FakeEhr, clock: FakeClock, token: str, *, claimed: str = AUTH_BASE, **changes: object
) -> object:
    config = parse_smart_configuration(ehr.smart_configuration() | changes, FHIR_BASE, "EHR")
    return await verifier(clock).verify(
        token, claimed_issuer=claimed, registration=registration(), configuration=config
    )


async def test_keys_come_from_the_openid_configuration(
    router: respx.MockRouter, ehr: FakeEhr, clock: FakeClock
) -> None:
    v = verifier(clock)
    config = parse_smart_configuration(ehr.smart_configuration(), FHIR_BASE, "EHR")
    for _ in range(2):
        claims = await v.verify(
            ehr.id_token(),
            claimed_issuer=AUTH_BASE,
            registration=registration(),
            configuration=config,
        )
        assert claims.fhir_user == ehr.fhir_user
    assert ehr.routes["jwks"].call_count == 1  # cached


async def test_rotated_server_keys_are_fetched_again_once(
    router: respx.MockRouter, ehr: FakeEhr, clock: FakeClock
) -> None:
    v = verifier(clock)
    config = parse_smart_configuration(ehr.smart_configuration(), FHIR_BASE, "EHR")
    await v.verify(
        ehr.id_token(), claimed_issuer=AUTH_BASE, registration=registration(), configuration=config
    )
    ehr.server_key = RSAKey.generate_key(2048, parameters={"kid": "rotated"})
    await v.verify(
        ehr.id_token(), claimed_issuer=AUTH_BASE, registration=registration(), configuration=config
    )
    assert ehr.routes["jwks"].call_count == 2
    ehr.id_token_key = RSAKey.generate_key(2048, parameters={"kid": "unpublished"})
    with pytest.raises(IdTokenError, match="kid is not in"):
        await v.verify(
            ehr.id_token(),
            claimed_issuer=AUTH_BASE,
            registration=registration(),
            configuration=config,
        )


async def test_missing_openid_configuration_falls_back_to_smart_jwks_uri(
    router: respx.MockRouter, ehr: FakeEhr, clock: FakeClock
) -> None:
    ehr.routes["openid-configuration"].mock(return_value=httpx.Response(404))
    claims = await verify(ehr, clock, ehr.id_token())
    assert claims is not None
    assert ehr.routes["jwks"].calls[0].request.url == JWKS_URL


async def test_openid_configuration_of_another_issuer_is_refused(
    router: respx.MockRouter, ehr: FakeEhr, clock: FakeClock
) -> None:
    ehr.routes["openid-configuration"].mock(
        return_value=httpx.Response(200, json={"issuer": "https://x", "jwks_uri": JWKS_URL})
    )
    with pytest.raises(IdTokenError) as raised:
        await verify(ehr, clock, ehr.id_token())
    assert "issuer differs" in raised.value.detail
    assert ehr.routes["jwks"].call_count == 0


async def test_without_advertised_issuer_the_issuer_must_be_on_the_ehrs_origin(
    router: respx.MockRouter, ehr: FakeEhr, clock: FakeClock
) -> None:
    assert await verify(ehr, clock, ehr.id_token(), issuer=None) is not None
    foreign = router.get(url__startswith="https://idp.example.net").mock(
        return_value=httpx.Response(200, json={})
    )
    with pytest.raises(IdTokenError) as raised:
        await verify(ehr, clock, ehr.id_token(), issuer=None, claimed="https://idp.example.net")
    assert "not on the origin" in raised.value.detail
    assert not foreign.called


async def test_a_jwks_without_usable_keys_is_an_error(
    router: respx.MockRouter, ehr: FakeEhr, clock: FakeClock
) -> None:
    ehr.routes["jwks"].mock(return_value=httpx.Response(200, json={"nokeys": []}))
    with pytest.raises(IdTokenError, match="usable JWK Set"):
        await verify(ehr, clock, ehr.id_token())
