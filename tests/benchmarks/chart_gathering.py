"""Benchmark: gathering a realistic chart for the candidacy check — our app (the FHIR client's
parallel searches, long ones read in date windows side by side, as the candidacy page reads the
chart) against the SMART Python client `fhirclient` 4.x making the same queries one after
another. Target: ours ≤ 0.25 of fhirclient, whatever the EHR's page size.

The EHR is the sandbox FHIR server on a loopback port (uvicorn, real HTTP for both clients)
with 30 ms of injected latency on every request, holding one patient with thousands of
Observations and hundreds of MedicationRequests. One run measures two EHRs in turn: one that
honours `_count` up to 1000 (the sandbox's own limit) and one that never sends more than 50 a
page (`--ehr-max-count` to choose others). Searches are paged at 50 unless the client asks
for more. Both clients run the app's query list (`app_chart_queries`: laboratory results only
as far back as a lab known by its words can matter; every coded result read in full).
fhirclient takes the EHR's default pages; our app asks for pages of `--page-size`, as
`smart_app.services` does.

The EHR runs in a process of its own, as a real EHR runs on another machine: in ours it would
share the interpreter lock with the client being timed. "EHR busy" is that process's CPU time
during the gathering: the sandbox serves one request at a time and has no search indexes —
each search (each part of a search read in parts is one) tests every record of the patient,
with what it read of each record remembered between searches until the next write, so its
cost stays small beside the latency, as a real EHR's indexed search does. The chart's dates
run up to today (a patient under care now), six hours
apart. Prints figures; asserts nothing.

    .venv/bin/python -m tests.benchmarks.chart_gathering [--observations N] [--rounds N]
        [--ehr-max-count N ...] [--page-size N]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import uvicorn
from fhirclient import client as fhirclient  # type: ignore[import-untyped]

from plugin.candidacy import default_policy
from plugin.cds_hooks.chart_queries import (
    FhirRead,
    FhirSearch,
    app_chart_queries,
    rendered_query,
)
from plugin.sandbox.app import create_sandbox_app, sandbox_of
from plugin.sandbox.behaviour import Fault, SandboxBehaviour
from plugin.sandbox.config import SandboxConfig
from smart_app.fhir_client import FhirClient, RetryPolicy, StaticTokenSource
from smart_app.scopes import GrantedAccess
from smart_app.workflow.chart_reading import read_chart

PATIENT = "bench-patient"
LATENCY_SECONDS = 0.030
PAGE_SIZE = 50
SANDBOX_MAX_COUNT = 1000


def _chart(observations: int, medications: int, today: date) -> list[dict[str, Any]]:
    """One fictional patient with a large, realistic chart, its latest results from `today`."""
    start = datetime(today.year, today.month, today.day, tzinfo=UTC) - timedelta(
        hours=6 * observations
    )
    subject = {"reference": f"Patient/{PATIENT}"}
    chart: list[dict[str, Any]] = [
        {
            "resourceType": "Patient",
            "id": PATIENT,
            "gender": "female",
            "birthDate": "1970-05-01",
            "name": [{"family": "Benchmark", "given": ["Large-Chart"]}],
        },
    ]
    labs = ("2160-0", "98979-8", "6301-6", "777-3", "72514-3")
    for i in range(observations):
        code = labs[i % len(labs)]
        category = "survey" if code == "72514-3" else "laboratory"
        chart.append(
            {
                "resourceType": "Observation",
                "id": f"obs-{i}",
                "status": "final",
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                "code": category,
                            }
                        ]
                    }
                ],
                "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                "subject": subject,
                "effectiveDateTime": (start + timedelta(hours=6 * i)).isoformat(),
                "valueQuantity": {"value": 1 + i % 7, "unit": "1"},
            }
        )
    for i in range(medications):
        chart.append(
            {
                "resourceType": "MedicationRequest",
                "id": f"med-{i}",
                "status": "completed",
                "intent": "order",
                "subject": subject,
                "medicationCodeableConcept": {"text": "naproxen 500 mg oral tablet"},
                "authoredOn": (start + timedelta(days=3 * i)).date().isoformat(),
            }
        )
    for i in range(40):
        chart.append(
            {
                "resourceType": "Condition",
                "id": f"cond-{i}",
                "subject": subject,
                "code": {"text": "Chronic low back pain" if i == 0 else f"Other problem {i}"},
                "onsetDateTime": (start + timedelta(days=7 * i)).date().isoformat(),
            }
        )
    return chart


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _CountCap:
    """ASGI middleware: a `_count` above `limit` is lowered to it, as an EHR with a smaller
    page limit than the sandbox's own answers."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            pairs = parse_qsl(scope["query_string"].decode(), keep_blank_values=True)
            capped = [
                (k, str(min(int(v), self.limit)) if k == "_count" and v.isdigit() else v)
                for k, v in pairs
            ]
            scope = {**scope, "query_string": urlencode(capped).encode()}
        await self.app(scope, receive, send)


class _Server:
    def __init__(self, app: Any, port: int) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the sandbox did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _load(base: str, token: str, chart: list[dict[str, Any]]) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
            for r in chart
        ],
    }
    response = httpx.post(
        base, json=bundle, headers={"Authorization": f"Bearer {token}"}, timeout=120
    )
    response.raise_for_status()


def _requests_paths() -> list[str]:
    """The chart queries as relative URLs (reads and searches), paged at 50."""
    paths = []
    for query in app_chart_queries(default_policy(), datetime.now(UTC).date()):
        request = rendered_query(query, {"patientId": PATIENT})
        if isinstance(request, FhirRead):
            paths.append(f"{request.resource_type}/{request.resource_id}")
        else:
            assert isinstance(request, FhirSearch)
            paths.append(f"{request.resource_type}?{urlencode(list(request.params))}")
    return paths


def _fhirclient_gather(base: str, token: str) -> int:
    """What an app on fhirclient does: each query, then each next page, one after another."""
    smart = fhirclient.FHIRClient(settings={"app_id": "benchmark", "api_base": base + "/"})
    smart.server.session.headers["Authorization"] = f"Bearer {token}"
    count = 0
    for path in _requests_paths():
        data = smart.server.request_json(path)
        while True:
            if data.get("resourceType") == "Bundle":
                count += len(data.get("entry", []))
                following = [ln["url"] for ln in data.get("link", []) if ln["relation"] == "next"]
                if not following:
                    break
                data = smart.server.request_json(following[0])
            else:
                count += 1
                break
    return count


async def _our_gather(base: str, token: str, page_size: int | None) -> tuple[float, int]:
    """Seconds our app takes to read the chart, and the resources read. The HTTP client is
    made before the clock starts, as the app makes it once at startup (its TLS context alone
    takes ~20 ms); its connections are new, as fhirclient's are."""
    policy = default_policy()
    async with httpx.AsyncClient(timeout=30) as http:
        client = FhirClient(
            base,
            StaticTokenSource(token),
            http,
            policy=RetryPolicy.for_app(),
            page_size=page_size,
        )
        start = time.perf_counter()
        reading = await read_chart(
            client,
            patient_id=PATIENT,
            access=GrantedAccess.parse("patient/*.rs"),
            policy=policy,
            today=datetime.now(UTC).date(),
        )
        elapsed = time.perf_counter() - start
    assert not reading.gaps, reading.gaps
    return elapsed, len(reading.resources)


def _serve_ehr(port: int, folder: str, max_count: int, sizes: tuple[int, int], ready: Any) -> None:
    """The EHR process: the sandbox with the chart loaded; answers "cpu" with its CPU time
    so far, until the parent says it is done."""
    config = SandboxConfig(
        base_url=f"http://127.0.0.1:{port}",
        signing_key_file=Path(folder) / "id-token.pem",
        behaviour=SandboxBehaviour(fault=lambda _: Fault(delay_seconds=LATENCY_SECONDS)),
    )
    app = create_sandbox_app(config)
    with _Server(_CountCap(app, max_count), port):
        sandbox = sandbox_of(app)
        chart = _chart(*sizes, datetime.now(UTC).date())
        loader = sandbox.issue_access_token("benchmark", "user/*.cruds").token
        _load(config.fhir_base, loader, chart)
        token = sandbox.issue_access_token("benchmark", "patient/*.rs", patient=PATIENT).token
        ready.send((config.fhir_base, token, len(chart)))
        while ready.recv() == "cpu":
            ready.send(time.process_time())


@dataclass
class _Figures:
    """Per client: wall-clock milliseconds, EHR CPU milliseconds, resources read, per round."""

    wall: dict[str, list[float]] = field(default_factory=lambda: {"theirs": [], "ours": []})
    ehr: dict[str, list[float]] = field(default_factory=lambda: {"theirs": [], "ours": []})
    counts: dict[str, set[int]] = field(default_factory=lambda: {"theirs": set(), "ours": set()})


def _measure(max_count: int, args: argparse.Namespace) -> tuple[_Figures, int]:
    """Both clients against one EHR process with this page limit, `args.rounds` times."""
    context = multiprocessing.get_context("spawn")
    ours_end, ehr_end = context.Pipe()
    figures = _Figures()
    with tempfile.TemporaryDirectory() as folder:
        sizes = (args.observations, args.medications)
        ehr = context.Process(
            target=_serve_ehr,
            args=(_free_port(), folder, max_count, sizes, ehr_end),
            daemon=True,
        )
        ehr.start()
        fhir_base, token, chart_size = ours_end.recv()

        def ehr_cpu() -> float:
            ours_end.send("cpu")
            seconds: float = ours_end.recv()
            return seconds

        try:
            for _ in range(args.rounds):
                for name in ("theirs", "ours"):
                    busy = ehr_cpu()
                    if name == "theirs":
                        start = time.perf_counter()
                        count = _fhirclient_gather(fhir_base, token)
                        elapsed = time.perf_counter() - start
                    else:
                        elapsed, count = asyncio.run(_our_gather(fhir_base, token, args.page_size))
                    figures.ehr[name].append((ehr_cpu() - busy) * 1000)
                    figures.wall[name].append(elapsed * 1000)
                    figures.counts[name].add(count)
        finally:
            ours_end.send("done")
            ehr.join(timeout=30)
    return figures, chart_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--observations", type=int, default=3000)
    parser.add_argument("--medications", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--ehr-max-count", type=int, nargs="+", default=[SANDBOX_MAX_COUNT, PAGE_SIZE]
    )
    parser.add_argument("--page-size", type=int, default=SANDBOX_MAX_COUNT)
    args = parser.parse_args()

    measured = [(limit, *_measure(limit, args)) for limit in args.ehr_max_count]
    chart_size = measured[0][2]
    print(
        f"chart of {chart_size} resources, {LATENCY_SECONDS * 1000:.0f} ms latency per request, "
        f"median of {args.rounds} rounds; target: ours / fhirclient ≤ 0.25"
    )
    labels = {"theirs": "fhirclient (sequential)", "ours": f"ours (page_size={args.page_size})"}
    for limit, figures, _ in measured:
        behaviour = (
            f"honours _count up to {limit}" if limit > PAGE_SIZE else f"never sends over {limit}"
        )
        print(f"EHR that {behaviour} (pages of {PAGE_SIZE} unless asked):")
        wall = {name: statistics.median(values) for name, values in figures.wall.items()}
        for name, label in labels.items():
            ratio = "" if name == "theirs" else f"   ratio {wall[name] / wall['theirs']:.2f}"
            print(
                f"  {label:<26} {wall[name]:7.0f} ms   EHR busy "
                f"{statistics.median(figures.ehr[name]):5.0f} ms   "
                f"resources {sorted(figures.counts[name])}{ratio}"
            )


if __name__ == "__main__":
    main()
