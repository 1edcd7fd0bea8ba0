"""What changes when a signed report is signed again (an amendment): the words FHIR R4 has for
it on each resource, and the identities of the resources each version adds.

Resources the EHR lets us update keep their identity and become `amended` (Observation,
DiagnosticReport; a Procedure has no such status and is simply updated). The clinical note is
never rewritten: version n files a NEW DocumentReference that `replaces` the previous one,
which becomes `superseded` where the EHR allows the update. Each version adds its own
Provenance. A level no longer in the report is marked `entered-in-error`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from plugin.fhir_mapping.coding import PROVENANCE_ACTIVITY_CREATE, Hl7Code
from plugin.fhir_mapping.identifiers import IDENTIFIER_SYSTEM
from plugin.terminology import system_url

__all__ = [
    "AMENDED",
    "AMENDED_DOC_STATUS",
    "ENTERED_IN_ERROR",
    "PROVENANCE_ACTIVITY_UPDATE",
    "SUPERSEDED",
    "KnownResource",
    "amended",
    "attributed_provenance",
    "document_token_version",
    "entered_in_error",
    "latest_document",
    "replacing_document",
    "superseded",
    "version_identity",
    "versioned_provenance",
]

#: Status of a changed resource that had a final version before (R4 observation-status,
#: diagnostic-report-status). Procedure and Provenance have none.
AMENDED = "amended"
_AMENDED_STATUS = {"Observation": AMENDED, "DiagnosticReport": AMENDED}
#: Status of a level result the amended report no longer has (R4 observation-status).
ENTERED_IN_ERROR = "entered-in-error"
#: Status of the previous note once a later version's note replaces it (R4
#: document-reference-status).
SUPERSEDED = "superseded"
#: docStatus of the note of a later signed version (R4 composition-status).
AMENDED_DOC_STATUS = "amended"
#: Activity of the Provenance of a version that changes resources already in the chart.
PROVENANCE_ACTIVITY_UPDATE = Hl7Code("v3-DataOperation", "UPDATE")
_DOCUMENT = re.compile(r"^(?P<key>.+)\.document(?:\.v(?P<version>[0-9]+))?$")


@dataclass(frozen=True, slots=True)
class KnownResource:
    """A resource an earlier version put in the chart: its server id and version as recorded
    in the ledger, and the body that was sent (None when not known)."""

    token: str
    resource_type: str
    id: str
    version: str | None = None
    body: Mapping[str, Any] | None = None

    @property
    def reference(self) -> str:
        return f"{self.resource_type}/{self.id}"


def version_identity(identifier_value: str, version: int) -> str:
    """The identifier value of a resource each version adds anew (the note, the provenance):
    the first version keeps the mapped value, later ones end in ``.v{n}``."""
    return identifier_value if version <= 1 else f"{identifier_value}.v{version}"


def document_token_version(token: str, study_key: str) -> int | None:
    """The report version whose note `token` identifies, or None if it is not such a note."""
    system, _, value = token.partition("|")
    match = _DOCUMENT.match(value) if system == IDENTIFIER_SYSTEM else None
    if match is None or match["key"] != study_key:
        return None
    return int(match["version"]) if match["version"] else 1


def latest_document(known: Mapping[str, KnownResource], study_key: str) -> KnownResource | None:
    """The most recent clinical note of the study among resources already in the chart."""
    notes = [
        (version, resource)
        for token, resource in known.items()
        if (version := document_token_version(token, study_key)) is not None
    ]
    return max(notes, key=lambda pair: pair[0])[1] if notes else None


def amended(resource: Mapping[str, Any], server_id: str) -> dict[str, Any]:
    """The update of a resource that changed since its last signed version."""
    body = _with_id(resource, server_id)
    status = _AMENDED_STATUS.get(str(body["resourceType"]))
    # A level still not completed stays `cancelled`: it has no result to amend.
    if status is not None and body.get("status") == "final":
        body["status"] = status
    return body


def entered_in_error(previous_body: Mapping[str, Any], server_id: str) -> dict[str, Any]:
    """The update marking a resource of an earlier version as recorded in error (a level the
    amended report no longer has)."""
    body = _with_id(previous_body, server_id)
    body["status"] = ENTERED_IN_ERROR
    return body


def replacing_document(
    document: Mapping[str, Any], identifier_value: str, replaces: KnownResource | None
) -> dict[str, Any]:
    """The new note of an amendment: its own identifier, `docStatus` amended, and
    `relatesTo` replaces the previous note when there is one in the chart."""
    body = copy.deepcopy(dict(document))
    body["identifier"] = [{"system": IDENTIFIER_SYSTEM, "value": identifier_value}]
    body["docStatus"] = AMENDED_DOC_STATUS
    if replaces is not None:
        body["relatesTo"] = [{"code": "replaces", "target": {"reference": replaces.reference}}]
    return body


def superseded(previous_body: Mapping[str, Any], server_id: str) -> dict[str, Any]:
    """The update retiring the previous note once the new one replaces it."""
    body = _with_id(previous_body, server_id)
    body["status"] = SUPERSEDED
    return body


def versioned_provenance(provenance: Mapping[str, Any], identifier_value: str) -> dict[str, Any]:
    """The Provenance of a later version: its own tag (the product's key for it)."""
    body = copy.deepcopy(dict(provenance))
    meta = dict(body.get("meta") or {})
    tags = [t for t in meta.get("tag", []) if t.get("system") != IDENTIFIER_SYSTEM]
    meta["tag"] = [*tags, {"system": IDENTIFIER_SYSTEM, "code": identifier_value}]
    body["meta"] = meta
    return body


def attributed_provenance(
    provenance: Mapping[str, Any], targets: Sequence[str], *, revises: bool
) -> dict[str, Any]:
    """The Provenance of exactly what one version writes: `targets` are the references of the
    resources it creates or updates, in write order; `revises` says whether any of them was
    already in the chart (an update, a withdrawal, a superseded note).

    R4 gives a Provenance one activity for all its targets. A version that only creates is a
    CREATE. One that changes anything already in the chart is an UPDATE (v3-DataOperation:
    "change the status or content of existing data"): the notes and results it creates
    alongside — the replacing note above all — are part of revising the signed record, not
    a new record of their own.
    """
    body = copy.deepcopy(dict(provenance))
    body["target"] = [{"reference": reference} for reference in targets]
    activity = PROVENANCE_ACTIVITY_UPDATE if revises else PROVENANCE_ACTIVITY_CREATE
    body["activity"] = {
        "coding": [{"system": system_url(activity.system_key), "code": activity.code}]
    }
    return body


def _with_id(resource: Mapping[str, Any], server_id: str) -> dict[str, Any]:
    body = copy.deepcopy(dict(resource))
    body["id"] = server_id
    meta = body.get("meta")
    if isinstance(meta, dict):  # the server keeps its own versionId and lastUpdated
        meta.pop("versionId", None)
        meta.pop("lastUpdated", None)
    return body
