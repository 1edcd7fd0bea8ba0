"""Random faults, reproducibly: every request to the sandbox EHR (FHIR and token endpoint)
may meet one fault, drawn from a seeded generator.

A fault of the transport (connection refused, dropped before or after the EHR committed, a
read timeout after commit) is raised by the `FaultTransport`; a fault of the EHR itself (500,
503 with Retry-After, 429, 500 after commit) is answered by the sandbox's fault hook, told by
a request header which one to play; an expired access token is simulated by revoking the
session's tokens just before the request.
"""

from __future__ import annotations

import random
from collections import Counter
from enum import StrEnum

import httpx

from plugin.sandbox.behaviour import CannedResponse, Fault, SandboxRequest
from plugin.sandbox.instance import SandboxEhr
from tests.faults.harness import Break

__all__ = ["Chaos", "Kind"]

_HEADER = "x-injected-fault"
_OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "transient", "diagnostics": "injected"}],
}


class Kind(StrEnum):
    HTTP_500 = "500 before commit"
    HTTP_503 = "503 + Retry-After"
    HTTP_429 = "429 + Retry-After"
    HTTP_500_AFTER_COMMIT = "500 after commit"
    CONNECT = "connection refused"
    DROPPED_BEFORE = "dropped connection, before commit"
    DROPPED_AFTER = "dropped connection, after commit"
    TIMEOUT_AFTER = "timeout after commit"
    TOKEN_EXPIRY = "access token expired"


_BREAKS = {
    Kind.CONNECT: Break.CONNECT,
    Kind.DROPPED_BEFORE: Break.DROP_BEFORE,
    Kind.DROPPED_AFTER: Break.DROP_AFTER,
    Kind.TIMEOUT_AFTER: Break.TIMEOUT_AFTER,
}
_ANSWERS = {
    Kind.HTTP_500: Fault(respond=CannedResponse(status=500, body=_OUTCOME)),
    Kind.HTTP_503: Fault(
        respond=CannedResponse(status=503, body=_OUTCOME, headers={"Retry-After": "7"})
    ),
    Kind.HTTP_429: Fault(respond=CannedResponse(status=429, headers={"Retry-After": "3"})),
    Kind.HTTP_500_AFTER_COMMIT: Fault(after_commit=CannedResponse(status=500, body=_OUTCOME)),
}
# A refresh token is spent once: a refresh whose answer is lost ends the session for real
# (a sign-in case of its own, tested apart). The token endpoint only meets faults that leave
# nothing done, played by the transport (the sandbox tells its hook no headers there).
_TOKEN_ENDPOINT_KINDS = (Kind.CONNECT, Kind.DROPPED_BEFORE)


class Chaos:
    def __init__(self, ehr: SandboxEhr, rng: random.Random, rate: float) -> None:
        self.ehr = ehr
        self.rng = rng
        self.rate = rate
        self.enabled = True
        self.injected: Counter[Kind] = Counter()
        self.requests = 0

    @property
    def total(self) -> int:
        return sum(self.injected.values())

    def decide(self, request: httpx.Request) -> Break | None:
        """Called by the FaultTransport for every request the app sends."""
        path = request.url.path
        if not self.enabled or not (path.startswith("/fhir") or path == "/auth/token"):
            return None
        self.requests += 1
        if self.rng.random() >= self.rate:
            return None
        kinds = _TOKEN_ENDPOINT_KINDS if path == "/auth/token" else tuple(Kind)
        kind = self.rng.choice(kinds)
        self.injected[kind] += 1
        if kind is Kind.TOKEN_EXPIRY:
            for token in list(self.ehr.records.access_tokens):
                self.ehr.records.revoke_access_token(token)
            return None
        if kind in _BREAKS:
            return _BREAKS[kind]
        request.headers[_HEADER] = kind.value  # for the sandbox's hook, just below
        return None

    def hook(self, request: SandboxRequest) -> Fault | None:
        """The sandbox's fault hook: plays the fault the transport chose for this request."""
        chosen = request.headers.get(_HEADER)
        return _ANSWERS[Kind(chosen)] if chosen else None
