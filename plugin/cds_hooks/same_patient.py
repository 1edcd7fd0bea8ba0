"""One patient per CDS call: every record the chart is built from must be about
context.patientId, whether the client prefetched it or we fetched it.

The chart itself (`plugin.candidacy.chart`) only compares records with the chart's own Patient,
so a prefetch whose ``patient`` is null, or another patient's chart sent whole, would otherwise
be assessed as this patient's. Here each resource is compared with context.patientId:

- a Patient resource must have that id;
- a ``subject`` or ``patient`` reference naming a Patient must name ``Patient/{patientId}``
  (an absolute URL or a versioned reference ending in it is the same patient; ``urn:uuid:``
  and contained ``#`` references name no Patient by id and pass).

Each prefetch key gets at most one issue, at its first offending entry, with the count of the
others: a whole chart of another patient is then a handful of clear issues, not one per record.
The messages never quote an id or a reference (patient data).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from plugin.errors import Problem

__all__ = [
    "PatientMismatch",
    "fetched_mismatches",
    "names_another_patient",
    "names_the_patient",
    "prefetch_problems",
]

_PATIENT_ID = re.compile(r"(?:^|/)Patient/([^/]+)(?:/_history/[^/]+)?$")
_SUBJECT_ELEMENTS = ("subject", "patient")


@dataclass(frozen=True, slots=True)
class PatientMismatch:
    """The first record of one query about another patient: `path` is its element, from
    the query's value (``entry[3].resource.subject``); `count` how many records of the
    query are about another patient."""

    key: str
    path: str
    is_patient: bool
    count: int


def names_another_patient(reference: str, patient_id: str) -> bool:
    """Whether `reference` names a Patient other than `patient_id`."""
    if "Patient/" not in reference or reference == f"Patient/{patient_id}":
        return False  # the common cases, decided without the pattern
    match = _PATIENT_ID.search(reference)
    return match is None or match.group(1) != patient_id


def names_the_patient(reference: str, patient_id: str) -> bool:
    """Whether `reference` names exactly the Patient `patient_id` (relative, absolute or
    versioned)."""
    if reference == f"Patient/{patient_id}":
        return True
    match = _PATIENT_ID.search(reference)
    return match is not None and match.group(1) == patient_id


def _mismatch(resource: Mapping[str, Any], patient_id: str) -> tuple[str, bool] | None:
    """The element of `resource` naming another patient, and whether it is a Patient's id."""
    if resource.get("resourceType") == "Patient":
        return None if resource.get("id") == patient_id else ("id", True)
    for element in _SUBJECT_ELEMENTS:
        target = resource.get(element)
        if target is None:
            continue
        reference = target.get("reference") if isinstance(target, Mapping) else None
        if isinstance(reference, str) and names_another_patient(reference, patient_id):
            return element, False
    return None


def _first_mismatch(
    key: str, items: Sequence[Any], patient_id: str, *, entries: bool
) -> PatientMismatch | None:
    """`items` are a Bundle's entries (`entries`) or the resources themselves. A prefetch may
    hold thousands: the common record — a dict whose subject is exactly ``Patient/{id}`` — is
    passed with three lookups, and a path is built only for the first mismatch."""
    own = f"Patient/{patient_id}"
    first: tuple[str, bool] | None = None
    count = 0
    for index, item in enumerate(items):
        resource = item
        if entries:
            if type(item) is not dict and not isinstance(item, Mapping):
                continue  # not an entry: `prefetch` reports it
            resource = item.get("resource")
        if type(resource) is not dict and not isinstance(resource, Mapping):
            continue
        subject = resource.get("subject")
        if (
            type(subject) is dict
            and subject.get("reference") == own
            and "patient" not in resource
            and resource.get("resourceType") != "Patient"
        ):
            continue
        found = _mismatch(resource, patient_id)
        if found is None:
            continue
        count += 1
        if first is None:
            where = f"entry[{index}].resource" if entries else f"[{index}]"
            first = (f"{where}.{found[0]}", found[1])
    if first is None:
        return None
    return PatientMismatch(key, first[0], first[1], count)


def _in_prefetch(key: str, value: Any, patient_id: str) -> PatientMismatch | None:
    if not isinstance(value, Mapping):
        return None
    if value.get("resourceType") != "Bundle":
        found = _mismatch(value, patient_id)  # a read: the resource itself
        return None if found is None else PatientMismatch(key, found[0], found[1], 1)
    entries = value.get("entry")
    if not isinstance(entries, list):
        return None  # `prefetch` reports it
    return _first_mismatch(key, entries, patient_id, entries=True)


def _problem(mismatch: PatientMismatch, where: str) -> Problem:
    if mismatch.is_patient:
        message = "is not context.patientId: the chart must be this patient's"
    else:
        message = "refers to another patient than context.patientId"
    if mismatch.count > 1:
        message += f" (and so do {mismatch.count - 1} more records of {mismatch.key})"
    return Problem(f"{where}.{mismatch.path}", "same-patient", message)


def prefetch_problems(
    prefetch: Mapping[str, Any], keys: Iterable[str], patient_id: str
) -> list[Problem]:
    """One problem per prefetch key among `keys` holding a record of another patient, named
    by its path in the request (``prefetch.conditions.entry[3].resource.subject``)."""
    problems: list[Problem] = []
    for key in keys:
        mismatch = _in_prefetch(key, prefetch.get(key), patient_id)
        if mismatch is not None:
            problems.append(_problem(mismatch, f"prefetch.{key}"))
    return problems


def fetched_mismatches(
    answers: Mapping[str, Sequence[Mapping[str, Any]]], patient_id: str
) -> list[PatientMismatch]:
    """The fetched queries holding a record of another patient, by key (paths index the
    query's results: ``[3].subject``)."""
    found: list[PatientMismatch] = []
    for key, resources in answers.items():
        mismatch = _first_mismatch(key, resources, patient_id, entries=False)
        if mismatch is not None:
            found.append(mismatch)
    return found
