"""Who gave the candidacy attestations, and when: the signed-in user as the EHR named them
(`fhirUser` and its display name) and, when the user signed in as a PractitionerRole, that
role's code. The report credits this person, never "the physician": the app cannot tell a
physician from anyone else unless the EHR says so, and a name's free text is no such statement.

Stored with the saved assessment (`candidacy_records`); the attesters' words go into the
report's indication (`candidacy_citation`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, Protocol

from smart_app.banner import fhir_user_target
from smart_app.errors import SmartError
from smart_app.fhir_errors import FhirError
from smart_app.session import SmartSession

__all__ = [
    "Attester",
    "GivenAttestation",
    "attestations_from_json",
    "attestations_to_json",
    "attester_of",
    "given_attestations",
    "role_words",
]


class _Reader(Protocol):
    async def read(self, resource_type: str, resource_id: str) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Attester:
    reference: str | None  # the user's `fhirUser` (None: the EHR did not say who signed in)
    name: str | None  # as the app shows it in the page header
    role: str | None = None  # PractitionerRole.code, only when the EHR gave one

    @property
    def words(self) -> str:
        """The attester as the report names them."""
        who = self.name or (
            f"the signed-in user {self.reference} (no name in the EHR)"
            if self.reference
            else "a user the EHR did not identify"
        )
        return f"{who} ({self.role})" if self.role else who


@dataclass(frozen=True, slots=True)
class GivenAttestation:
    id: str  # the policy's attestation id
    attester: Attester
    given_at: float  # seconds since the Unix epoch
    # The calendar day it was given at the site (ISO), fixed when given: the report and the
    # page show the site's day, not UTC's. Records saved without one read the UTC day.
    given_on: str = ""

    def __post_init__(self) -> None:
        if not self.given_on:
            object.__setattr__(self, "given_on", _day(self.given_at, UTC))


def _day(moment: float, zone: tzinfo) -> str:
    return datetime.fromtimestamp(moment, zone).date().isoformat()


def role_words(practitioner_role: Mapping[str, Any]) -> str | None:
    """The first PractitionerRole.code in words (its text, else a coding's display)."""
    for concept in practitioner_role.get("code") or []:
        if not isinstance(concept, Mapping):
            continue
        text = concept.get("text")
        if isinstance(text, str) and text.strip():
            return text.strip()
        for coding in concept.get("coding") or []:
            display = coding.get("display") if isinstance(coding, Mapping) else None
            if isinstance(display, str) and display.strip():
                return display.strip()
    return None


async def attester_of(client: _Reader, session: SmartSession) -> Attester:
    """The session's user as attester. Their role is read only from a PractitionerRole
    `fhirUser`; reading it may fail (scope, network) without stopping the save."""
    attester = Attester(session.fhir_user, session.user_name)
    if session.fhir_user is None:
        return attester
    target = fhir_user_target(session.fhir_user, session.iss)
    if target is None or target[0] != "PractitionerRole":
        return attester
    try:
        resource = await client.read(*target)
    except (FhirError, SmartError):
        return attester
    return Attester(session.fhir_user, session.user_name, role_words(resource))


def given_attestations(
    ids: Iterable[str],
    attester: Attester,
    now: float,
    earlier: Sequence[GivenAttestation] = (),
    zone: tzinfo = UTC,
) -> tuple[GivenAttestation, ...]:
    """The attestations `ids` as given by `attester` now, on the site's day in `zone` —
    except those the same person had already given: saving again does not move when they
    were given."""
    same = attester.reference
    before = {given.id: given for given in earlier if given.attester.reference == same}
    today = _day(now, zone)
    return tuple(before.get(i) or GivenAttestation(i, attester, now, today) for i in ids)


def attestations_to_json(given: Iterable[GivenAttestation]) -> list[dict[str, Any]]:
    return [
        {
            "id": g.id,
            "reference": g.attester.reference,
            "name": g.attester.name,
            "role": g.attester.role,
            "given_at": g.given_at,
            "given_on": g.given_on,
        }
        for g in given
    ]


def attestations_from_json(items: Iterable[Mapping[str, Any]]) -> tuple[GivenAttestation, ...]:
    return tuple(
        GivenAttestation(
            id=str(item["id"]),
            attester=Attester(item.get("reference"), item.get("name"), item.get("role")),
            given_at=float(item["given_at"]),
            given_on=str(item.get("given_on") or ""),
        )
        for item in items
    )
