"""A small in-memory FHIR server for the chart queries, usable two ways: as a respx side
effect answering fhirServer searches (paged, with absolute `next` links), and as a CDS client
filling the prefetch from the same data — so both paths see identical resources. It sorts by
`_sort=-date`, filters Observations by `date=ge…` (effective[x], by its day), and pages at
`_count` up to its own page size; `date:missing`; and gives each Bundle its self link."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from plugin.candidacy.partial_dates import parse_partial_date
from plugin.cds_hooks.chart_queries import ChartQuery, FhirRead, rendered_query


def _tokens(concept: Any) -> set[str]:
    found: set[str] = set()
    for coding in (concept or {}).get("coding") or ():
        found.add(f"{coding.get('system')}|{coding.get('code')}")
        found.add(str(coding.get("code")))
    return found


def _effective(resource: Mapping[str, Any]) -> str | None:
    period = resource.get("effectivePeriod") or {}
    value = resource.get("effectiveDateTime") or resource.get("effectiveInstant")
    value = value or period.get("start") or period.get("end")
    return str(value) if value else None


def _span(resource: Mapping[str, Any]) -> tuple[date, date] | None:
    day = parse_partial_date(_effective(resource))
    return (day.earliest, day.latest) if day is not None else None


def _patient_of(resource: Mapping[str, Any]) -> str | None:
    if resource["resourceType"] == "Patient":
        return str(resource["id"])
    for element in ("subject", "patient"):
        ref = (resource.get(element) or {}).get("reference")
        if isinstance(ref, str) and ref.startswith("Patient/"):
            return ref.removeprefix("Patient/")
    return None


class FakeFhirServer:
    def __init__(self, base: str, resources: Sequence[Mapping[str, Any]], *, page_size: int = 50):
        self.base = base.rstrip("/")
        self.resources = list(resources)
        self.page_size = page_size
        self.requests: list[httpx.Request] = []

    def search(
        self, resource_type: str, params: Sequence[tuple[str, str]]
    ) -> list[Mapping[str, Any]]:
        found = [r for r in self.resources if r["resourceType"] == resource_type]
        for name, value in params:
            if name == "patient":
                found = [r for r in found if _patient_of(r) == value]
            elif name == "category":
                found = [
                    r for r in found if any(value in _tokens(c) for c in r.get("category") or ())
                ]
            elif name == "code":
                wanted = set(value.split(","))
                found = [r for r in found if wanted & _tokens(r.get("code"))]
            elif name == "date:missing":
                found = [r for r in found if (_effective(r) is None) == (value == "true")]
            elif name == "date" and value.startswith("ge"):
                # FHIR: a date charted to the month or year matches when its range reaches
                # the day asked for.
                since = date.fromisoformat(value[2:])
                found = [r for r in found if (_span(r) or (since, date.min))[1] >= since]
            elif name == "_sort" and value == "-date":
                # Newest first, the undated last (as a NULLS LAST database sorts them).
                dated = sorted(
                    (r for r in found if _effective(r)), key=lambda r: str(_effective(r))
                )
                found = [*reversed(dated), *(r for r in found if not _effective(r))]
            elif name.startswith("_"):
                continue
            else:
                raise AssertionError(f"unsupported search parameter {name}")
        return found

    def read(self, resource_type: str, resource_id: str) -> Mapping[str, Any] | None:
        return next(
            (
                r
                for r in self.resources
                if r["resourceType"] == resource_type and r["id"] == resource_id
            ),
            None,
        )

    def bundle(
        self, matches: Sequence[Mapping[str, Any]], self_url: str | None = None
    ) -> dict[str, Any]:
        links = [{"relation": "self", "url": self_url}] if self_url else []
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "link": links,
            "total": len(matches),
            "entry": [
                {"fullUrl": f"{self.base}/{r['resourceType']}/{r['id']}", "resource": r}
                for r in matches
            ],
        }

    def prefetch(self, queries: Sequence[ChartQuery], patient_id: str) -> dict[str, Any]:
        """What a CDS client that satisfied every template would send."""
        out: dict[str, Any] = {}
        for query in queries:
            request = rendered_query(query, {"patientId": patient_id})
            if isinstance(request, FhirRead):
                out[query.key] = self.read(request.resource_type, request.resource_id)
            else:
                out[query.key] = self.bundle(
                    self.search(request.resource_type, request.params),
                    f"{self.base}/{request.resource_type}?{urlencode(request.params)}",
                )
        return out

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["authorization"] == "Bearer opaque-token-for-tests"
        path = urlsplit(str(request.url)).path.removeprefix(urlsplit(self.base).path).strip("/")
        parts = path.split("/")
        if len(parts) == 2:
            found = self.read(parts[0], parts[1])
            if found is None:
                return httpx.Response(
                    404,
                    json={
                        "resourceType": "OperationOutcome",
                        "issue": [{"severity": "error", "code": "not-found"}],
                    },
                )
            return httpx.Response(200, json=found)
        params = [(k, v) for k, v in parse_qsl(request.url.query.decode())]
        offset = int(dict(params).get("_offset", "0"))
        query = [(k, v) for k, v in params if k != "_offset"]
        matches = self.search(parts[0], query)
        size = min(int(dict(query).get("_count", self.page_size)), self.page_size)
        self_url = f"{self.base}/{parts[0]}?{urlencode(params)}"
        page = self.bundle(matches[offset : offset + size], self_url)
        if offset + size < len(matches):
            next_query = urlencode([*query, ("_offset", str(offset + size))])
            page["link"].append({"relation": "next", "url": f"{self.base}/{parts[0]}?{next_query}"})
        return httpx.Response(
            200,
            content=json.dumps(page).encode(),
            headers={"Content-Type": "application/fhir+json"},
        )
