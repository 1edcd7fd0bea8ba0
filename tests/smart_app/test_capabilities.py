"""Reading CapabilityStatements, including the odd ones real EHRs send, and caching them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugin.errors import InputProblemError
from smart_app.capabilities import CapabilityCache, OAuthUris, ServerCapabilities

BASE = "https://ehr.example.org/fhir/R4"
OAUTH_URIS = "http://fhir-registry.smartplatforms.org/StructureDefinition/oauth-uris"

R4_STATEMENT: dict[str, Any] = {
    "resourceType": "CapabilityStatement",
    "status": "active",
    "kind": "instance",
    "fhirVersion": "4.0.1",
    "format": ["json", "application/fhir+xml"],
    "software": {"name": "Example EHR", "version": "2025.1"},
    "rest": [
        {
            "mode": "server",
            "security": {
                "service": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                "code": "SMART-on-FHIR",
                            }
                        ]
                    }
                ],
                "extension": [
                    {
                        "url": OAUTH_URIS,
                        "extension": [
                            {
                                "url": "authorize",
                                "valueUri": "https://ehr.example.org/oauth/authorize",
                            },
                            {"url": "token", "valueUri": "https://ehr.example.org/oauth/token"},
                        ],
                    }
                ],
            },
            "interaction": [{"code": "transaction"}, {"code": "batch"}],
            "searchParam": [
                {"name": "_id", "type": "token"},
                {"name": "_lastUpdated", "type": "date"},
            ],
            "resource": [
                {
                    "type": "DiagnosticReport",
                    "interaction": [{"code": "read"}, {"code": "search-type"}, {"code": "create"}],
                    "conditionalCreate": False,
                    "searchParam": [{"name": "patient", "type": "reference"}],
                },
                {
                    "type": "DocumentReference",
                    "interaction": [{"code": "create"}, {"code": "update"}, {"code": "read"}],
                    "conditionalCreate": True,
                    "conditionalUpdate": True,
                    "versioning": "versioned-update",
                    "searchInclude": ["DocumentReference:subject"],
                },
                {
                    "type": "Observation",
                    "interaction": [{"code": "read"}, {"code": "search-type"}],
                    "conditionalCreate": True,  # without create: meaningless
                    "searchParam": [
                        {"name": "patient", "type": "reference"},
                        {"name": "code", "type": "token"},
                        {"name": "date", "type": "date"},
                    ],
                },
            ],
        }
    ],
}


def test_a_conformant_r4_statement() -> None:
    caps = ServerCapabilities.from_statement(R4_STATEMENT)
    assert caps.fhir_version == "4.0.1" and caps.is_r4
    assert caps.software == "Example EHR 2025.1"
    assert caps.supports_transaction and caps.supports_batch
    assert caps.smart_on_fhir
    assert caps.formats == {"json", "application/fhir+xml"} and caps.supports_json
    assert caps.creatable_types == {"DiagnosticReport", "DocumentReference"}
    assert caps.updatable_types == {"DocumentReference"}
    assert caps.can_create("DiagnosticReport") and not caps.can_update("DiagnosticReport")
    assert caps.conditional_create("DocumentReference")
    assert not caps.conditional_create("DiagnosticReport")
    assert not caps.conditional_create("Observation")  # conditional, but no create at all
    assert caps.can_search("Observation") and caps.can_read("Observation")
    assert not caps.can_create("Observation")
    assert not caps.can_create("Procedure")  # not listed: not supported
    assert caps.search_params("Observation") == {"patient", "code", "date", "_id", "_lastUpdated"}
    assert caps.supports_search_param("Observation", "date:missing")
    assert caps.supports_search_param("Observation", "_lastUpdated")
    assert not caps.supports_search_param("Observation", "category")
    documents = caps.resource("DocumentReference")
    assert documents is not None and documents.versioning == "versioned-update"
    assert documents.search_includes == {"DocumentReference:subject"}
    assert caps.oauth_uris == OAuthUris(
        authorize="https://ehr.example.org/oauth/authorize",
        token="https://ehr.example.org/oauth/token",
    )


def test_a_statement_without_rest_lists_nothing() -> None:
    caps = ServerCapabilities.from_statement(
        {"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1"}
    )
    assert not caps.lists_resources
    assert not caps.can_create("DiagnosticReport")
    assert not caps.supports_transaction
    assert caps.oauth_uris is None
    assert caps.supports_json  # no `format` at all is a broken statement, not an XML server


def test_odd_casing_strings_for_booleans_and_objects_for_lists() -> None:
    caps = ServerCapabilities.from_statement(
        {
            "resourceType": "CapabilityStatement",
            "format": "JSON",
            "rest": {  # an object where a list belongs
                "mode": "Server",
                "interaction": {"code": "Transaction"},
                "resource": {
                    "type": "DocumentReference",
                    "interaction": [{"code": "Create"}, {"code": "SEARCH-TYPE"}],
                    "conditionalCreate": "true",
                    "conditionalUpdate": "False",
                },
            },
        }
    )
    assert caps.supports_transaction
    assert caps.can_create("DocumentReference")
    assert caps.can_create("documentreference")  # types never differ by case alone
    assert caps.can_search("DocumentReference")
    assert caps.conditional_create("DocumentReference")
    resource = caps.resource("DocumentReference")
    assert resource is not None and not resource.conditional_update
    assert caps.formats == {"json"} and caps.supports_json


def test_client_mode_rest_is_ignored_and_several_server_entries_are_merged() -> None:
    caps = ServerCapabilities.from_statement(
        {
            "resourceType": "CapabilityStatement",
            "rest": [
                {
                    "mode": "client",
                    "resource": [{"type": "Procedure", "interaction": [{"code": "create"}]}],
                },
                {
                    "mode": "server",
                    "resource": [
                        {"type": "Observation", "interaction": [{"code": "read"}]},
                        {  # listed again (once per profile): the union counts
                            "type": "Observation",
                            "interaction": [{"code": "create"}],
                            "conditionalCreate": True,
                            "searchParam": [{"name": "code"}],
                        },
                    ],
                },
                {"resource": [{"type": "Condition", "interaction": [{"code": "read"}]}]},
            ],
        }
    )
    assert not caps.can_create("Procedure")
    assert caps.can_read("Observation") and caps.can_create("Observation")
    assert caps.conditional_create("Observation")
    assert caps.search_params("Observation") == {"code"}
    assert caps.can_read("Condition")  # a rest without mode is taken as the server's


def test_junk_values_are_ignored_not_fatal() -> None:
    caps = ServerCapabilities.from_statement(
        {
            "resourceType": "CapabilityStatement",
            "fhirVersion": 4,
            "software": "EHR",
            "format": [None, 3, "xml"],
            "rest": [
                "server",
                {
                    "interaction": [None, {"code": 5}, {"code": "batch"}],
                    "security": ["oauth"],
                    "searchParam": [{"type": "token"}, "x"],
                    "resource": [
                        None,
                        {"interaction": [{"code": "create"}]},  # no type
                        {
                            "type": "Observation",
                            "interaction": "read",
                            "searchParam": {"name": "code"},
                        },
                    ],
                },
            ],
        }
    )
    assert caps.fhir_version is None and caps.software is None
    assert caps.formats == {"xml"} and not caps.supports_json
    assert caps.supports_batch and not caps.supports_transaction
    assert list(caps.resources) == ["Observation"]
    assert not caps.can_read("Observation")  # "read" as a bare string is not an interaction
    assert caps.search_params("Observation") == {"code"}


def test_the_oauth_extension_in_its_variants() -> None:
    caps = ServerCapabilities.from_statement(
        {
            "resourceType": "CapabilityStatement",
            "rest": [
                {
                    "mode": "server",
                    # Under rest.extension instead of rest.security.extension, on https, with
                    # valueUrl / valueString and relative endpoints.
                    "extension": [
                        {"url": "https://example.org/other", "valueString": "x"},
                        {
                            "url": OAUTH_URIS.replace("http:", "https:"),
                            "extension": [
                                {"url": "authorize", "valueUrl": "../../oauth2/authorize"},
                                {"url": "token", "valueString": "auth/token"},
                                {"url": "revoke", "valueUri": "https://ehr.example.org/revoke"},
                                {"url": "unknown", "valueUri": "https://ehr.example.org/x"},
                            ],
                        },
                    ],
                }
            ],
        },
        base_url=BASE,
    )
    assert caps.oauth_uris == OAuthUris(
        authorize="https://ehr.example.org/oauth2/authorize",
        token="https://ehr.example.org/fhir/R4/auth/token",
        revoke="https://ehr.example.org/revoke",
    )
    assert not caps.smart_on_fhir


def test_a_dstu2_conformance_is_read_too() -> None:
    caps = ServerCapabilities.from_statement(
        {
            "resourceType": "Conformance",
            "fhirVersion": "1.0.2",
            "rest": [
                {
                    "mode": "server",
                    "security": {"service": [{"text": "OAuth2 using SMART-on-FHIR profile"}]},
                    "resource": [{"type": "Observation", "interaction": [{"code": "search"}]}],
                }
            ],
        }
    )
    assert caps.can_search("Observation") and caps.supports("Observation", "search")
    assert not caps.is_r4
    assert caps.smart_on_fhir


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"resourceType": "OperationOutcome", "issue": []}, "resourceType"),
        ({"resourceType": "Bundle"}, "resourceType"),
        (["CapabilityStatement"], ""),
        ("<CapabilityStatement/>", ""),
    ],
)
def test_a_body_that_is_plainly_something_else_is_refused(body: Any, field: str) -> None:
    with pytest.raises(InputProblemError) as caught:
        ServerCapabilities.from_statement(body)
    assert caught.value.problems[0].field == field
    assert caught.value.problems[0].rule == "capability-statement"


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=20,
)
_FIELDS = st.sampled_from(
    [
        "rest",
        "mode",
        "resource",
        "type",
        "interaction",
        "code",
        "security",
        "extension",
        "url",
        "valueUri",
        "searchParam",
        "name",
        "conditionalCreate",
        "format",
        "fhirVersion",
    ]
)
_STATEMENTISH = st.recursive(
    _JSON,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_FIELDS, inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_FIELDS, _STATEMENTISH, max_size=5))
def test_no_statement_shape_makes_parsing_crash(body: dict[str, Any]) -> None:
    caps = ServerCapabilities.from_statement({"resourceType": "CapabilityStatement", **body})
    # Every query answers without raising, whatever was declared.
    for resource_type in (*caps.resources, "Observation"):
        caps.can_create(resource_type)
        caps.conditional_create(resource_type)
        caps.search_params(resource_type)


# -- the cache -----------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


async def test_the_cache_fetches_once_even_when_asked_concurrently() -> None:
    calls = 0

    async def fetch() -> ServerCapabilities:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        return ServerCapabilities(fhir_version="4.0.1")

    cache = CapabilityCache()
    results = await asyncio.gather(*(cache.get(BASE, fetch) for _ in range(5)))
    assert calls == 1
    assert all(r is results[0] for r in results)
    assert cache.peek(BASE + "/") is results[0]  # the key ignores a trailing slash


async def test_the_cache_expires_and_can_be_invalidated() -> None:
    clock = Clock()
    versions = iter(["4.0.0", "4.0.1", "4.0.2"])

    async def fetch() -> ServerCapabilities:
        return ServerCapabilities(fhir_version=next(versions))

    cache = CapabilityCache(ttl=10, clock=clock)
    assert (await cache.get(BASE, fetch)).fhir_version == "4.0.0"
    clock.now += 10
    assert cache.peek(BASE) is None
    assert (await cache.get(BASE, fetch)).fhir_version == "4.0.1"
    cache.invalidate(BASE)
    assert (await cache.get(BASE, fetch)).fhir_version == "4.0.2"
    cache.invalidate()
    assert cache.peek(BASE) is None


async def test_the_cache_keeps_servers_apart_and_does_not_cache_failures() -> None:
    async def broken() -> ServerCapabilities:
        raise RuntimeError("metadata unavailable")

    async def other() -> ServerCapabilities:
        return ServerCapabilities(fhir_version="4.0.1")

    cache = CapabilityCache()
    with pytest.raises(RuntimeError):
        await cache.get(BASE, broken)
    assert cache.peek(BASE) is None
    await cache.get("https://other.example.org/fhir", other)
    assert cache.peek(BASE) is None


def test_the_cache_refuses_a_ttl_of_zero() -> None:
    with pytest.raises(InputProblemError) as caught:
        CapabilityCache(ttl=0)
    assert caught.value.problems[0].field == "ttl"
