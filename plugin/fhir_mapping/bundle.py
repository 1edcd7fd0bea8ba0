"""The transaction Bundle that files a mapped study: one conditional create per resource,
references between entries by their ``urn:uuid`` fullUrls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fhir.resources.R4B.bundle import Bundle, BundleEntry, BundleEntryRequest
from fhir.resources.R4B.resource import Resource

from plugin.fhir_mapping.identifiers import ResourceIdentity

__all__ = ["BundleItem", "transaction_bundle"]


@dataclass(frozen=True, slots=True)
class BundleItem:
    """A resource and its identity, as one entry of the transaction."""

    resource: Resource
    identity: ResourceIdentity

    @property
    def resource_type(self) -> str:
        return self.resource.get_resource_type()


def transaction_bundle(items: Sequence[BundleItem]) -> Bundle:
    """A transaction that creates each resource unless one with its identifier exists."""
    return Bundle(
        type="transaction",
        entry=[
            BundleEntry(
                fullUrl=item.identity.full_url,
                resource=item.resource,
                request=BundleEntryRequest(
                    method="POST",
                    url=item.resource_type,
                    ifNoneExist=item.identity.if_none_exist,
                ),
            )
            for item in items
        ],
    )
