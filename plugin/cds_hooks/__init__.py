"""The CDS Hooks 2.0 service of the discography plugin: order-select and order-sign services
that assess a draft discography order's candidacy (plugin.candidacy) and answer with cards,
suggestions, a SMART app link and a systemAction recording the outcome on the order; discovery,
feedback, and the CDS client's JWT checked on every call."""

from plugin.cds_hooks.discovery import SERVICES, CdsService, discovery_document
from plugin.cds_hooks.extension import (
    CANDIDACY_EXTENSION_URL,
    CANDIDACY_OUTCOME,
    candidacy_extension_definition,
)
from plugin.cds_hooks.override_reasons import OVERRIDE_REASON
from plugin.cds_hooks.router import CdsHooksRuntime, build_runtime, cds_router, create_cds_app

__all__ = [
    "CANDIDACY_EXTENSION_URL",
    "CANDIDACY_OUTCOME",
    "OVERRIDE_REASON",
    "SERVICES",
    "CdsHooksRuntime",
    "CdsService",
    "build_runtime",
    "candidacy_extension_definition",
    "cds_router",
    "create_cds_app",
    "discovery_document",
]
