"""The patient's chart as the candidacy engine reads it: FHIR R4 resources as JSON objects.

Built from a Bundle of any type (a searchset, a collection, a CDS Hooks prefetch result) or a
plain list of resources. Only the structure the engine relies on is checked, because real EHR
data is full of optional elements left out: every entry an object with a `resourceType`, and
the elements deciding whether a record counts or still applies — `status`, a
MedicationRequest's `intent`, a Condition's or allergy's `clinicalStatus`,
`verificationStatus` and `abatementBoolean` — of a readable JSON type, since guessing them
could count a record entered in error. Each problem names the entry. Any other element of the
wrong JSON type is read as absent (plugin.candidacy.elements). Resources of types the engine
does not read are ignored, records entered in error (or refuted, cancelled, not done, not
taken) are dropped, the same resource delivered twice (overlapping pages) is kept once, and
the order of the input never matters.
A resource taken from a Bundle entry carries the entry's fullUrl as ``_fullUrl`` (not a FHIR
element: FHIR's own underscore keys name primitive extensions such as ``_birthDate``), so
``urn:uuid:`` references resolve.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from plugin.candidacy.elements import repeating
from plugin.candidacy.partial_dates import parse_partial_date
from plugin.candidacy.record_status import STATUS_BEYOND_STATUS, is_void, unreadable_status
from plugin.errors import InputProblemError, Problem

__all__ = [
    "CHART_RESOURCE_TYPES",
    "Chart",
    "ChartInvalidError",
    "chart_from_json",
    "chart_from_resources",
    "reference_of",
]

#: The resource types the candidacy engine reads (Medication resolves medicationReference).
CHART_RESOURCE_TYPES = frozenset(
    {
        "Patient",
        "Condition",
        "Procedure",
        "ServiceRequest",
        "Encounter",
        "MedicationRequest",
        "MedicationStatement",
        "Medication",
        "AllergyIntolerance",
        "Observation",
        "DiagnosticReport",
        "ImagingStudy",
    }
)

Resource = Mapping[str, Any]


class ChartInvalidError(InputProblemError):
    """The chart input is not a Bundle or list of FHIR resources; `problems` names each entry."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems, "chart")


def reference_of(resource: Resource) -> str | None:
    """``"Observation/egfr-1"``; the Bundle fullUrl (``urn:uuid:…``) for a resource without
    an id; None when neither is known."""
    rid = resource.get("id")
    if isinstance(rid, str) and rid:
        return f"{resource.get('resourceType')}/{rid}"
    full_url = resource.get("_fullUrl")
    return full_url if isinstance(full_url, str) else None


@dataclass(frozen=True)
class Chart:
    """The usable resources of one patient's chart, grouped by type in a fixed order."""

    resources: tuple[Resource, ...]
    _by_type: dict[str, tuple[Resource, ...]] = field(default_factory=dict, repr=False)
    _by_reference: dict[str, Resource] = field(default_factory=dict, repr=False)
    #: The day from which dated Observations were read, when the reader left older ones out
    #: as unable to change the outcome (the CDS services); None: all of them were read. An
    #: explanation then says "none since that day" rather than "none in the chart".
    observations_from: date | None = None

    def of_type(self, *types: str) -> tuple[Resource, ...]:
        if len(types) == 1:
            return self._by_type.get(types[0], ())
        return tuple(r for t in types for r in self._by_type.get(t, ()))

    @property
    def patient(self) -> Resource | None:
        patients = self._by_type.get("Patient", ())
        return patients[0] if patients else None

    def resolve(self, reference: object, within: Resource | None = None) -> Resource | None:
        """The resource a reference points to: ``#id`` among `within`'s contained resources,
        ``Type/id`` or an absolute URL ending in it, or a Bundle fullUrl."""
        if isinstance(reference, Mapping):
            reference = reference.get("reference")
        if not isinstance(reference, str) or not reference:
            return None
        if reference.startswith("#"):
            for contained in repeating((within or {}).get("contained")):
                if isinstance(contained, Mapping) and contained.get("id") == reference[1:]:
                    return contained
            return None
        found = self._by_reference.get(reference)
        if found is None and "/" in reference:
            found = self._by_reference.get("/".join(reference.rstrip("/").split("/")[-2:]))
        return found

    def sex(self) -> str | None:
        patient = self.patient
        gender = patient.get("gender") if patient else None
        return gender if isinstance(gender, str) else None

    def age_on(self, day: date) -> int | None:
        """Whole years on `day`; None without a usable birth date. A partial birth date is
        read as its latest day (the youngest the patient can be)."""
        patient = self.patient
        birth = parse_partial_date(patient.get("birthDate")) if patient else None
        if birth is None:
            return None
        born = birth.latest
        years = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
        return max(years, 0)


def chart_from_json(data: Any) -> Chart:
    """A chart from a decoded Bundle (any type) or JSON list of resources."""
    if isinstance(data, list):
        return chart_from_resources(data, where="")
    if isinstance(data, Mapping) and data.get("resourceType") == "Bundle":
        entries = data.get("entry", [])
        if not isinstance(entries, list):
            raise ChartInvalidError([Problem("entry", "type", "Bundle.entry must be a list")])
        problems: list[Problem] = []
        resources: list[Any] = []
        positions: list[int] = []  # the entry each resource came from, for its path
        for index, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                problems.append(Problem(f"entry[{index}]", "type", "must be an object"))
                continue
            resource = entry.get("resource")
            if resource is None:
                continue  # a deleted entry of a history bundle, a search outcome without body
            if isinstance(resource, Mapping) and isinstance(entry.get("fullUrl"), str):
                resource = {**resource, "_fullUrl": entry["fullUrl"]}
            resources.append(resource)
            positions.append(index)
        # The other entries are checked too: the message names every bad one, in entry order.
        try:
            chart = chart_from_resources(
                resources, where="entry", wrapped=True, positions=positions
            )
        except ChartInvalidError as error:
            problems.extend(error.problems)
        if problems:
            raise ChartInvalidError(sorted(problems, key=_entry_order))
        return chart
    if isinstance(data, Mapping) and isinstance(data.get("resourceType"), str):
        raise ChartInvalidError(
            [
                Problem(
                    "resourceType",
                    "not-a-bundle",
                    f"a chart must be a Bundle or a list of resources (got a "
                    f"{data['resourceType']})",
                )
            ]
        )
    raise ChartInvalidError(
        [Problem("", "type", "a chart must be a FHIR Bundle or a JSON list of resources")]
    )


def chart_from_resources(
    resources: Iterable[Any],
    *,
    where: str = "",
    wrapped: bool = False,
    positions: Sequence[int] | None = None,
    observations_from: date | None = None,
) -> Chart:
    """A chart from resource objects. Raises `ChartInvalidError` naming every bad entry, or
    when the resources belong to more than one patient. `positions` gives each resource's
    index in the input its paths name (a Bundle's entries, some of which hold no resource);
    `observations_from` as `Chart.observations_from`."""
    problems: list[Problem] = []
    kept: dict[str, Resource] = {}
    anonymous: list[Resource] = []
    # A chart may hold thousands of resources (a CDS prefetch): this loop does the least work
    # per resource, and builds an entry's path only for a problem.
    for index, resource in enumerate(resources):
        if positions is not None:
            index = positions[index]
        if type(resource) is not dict and not isinstance(resource, Mapping):
            path = _path(where, index, wrapped) or f"[{index}]"
            problems.append(Problem(path, "type", "a resource must be an object"))
            continue
        kind = resource.get("resourceType")
        if not isinstance(kind, str) or not kind:
            path = f"{_path(where, index, wrapped)}.resourceType"
            problems.append(Problem(path, "missing", "resourceType is required"))
            continue
        if kind not in CHART_RESOURCE_TYPES:
            continue
        # Most records (thousands of Observations) have a string status and nothing else
        # deciding whether they count: they skip the full check.
        if type(resource.get("status")) is not str or kind in STATUS_BEYOND_STATUS:
            unreadable = unreadable_status(resource, kind)
            if unreadable is not None:
                path = _path(where, index, wrapped)
                problems.append(_unreadable_problem(resource, path, unreadable))
                continue
        if is_void(resource, kind):
            continue
        rid = resource.get("id")
        reference = f"{kind}/{rid}" if isinstance(rid, str) and rid else reference_of(resource)
        if reference is None:
            anonymous.append(resource)
            continue
        current = kept.get(reference)
        if current is None or (current is not resource and _newer(resource, current)):
            kept[reference] = resource
    if problems:
        raise ChartInvalidError(problems)
    by_type = _grouped(kept, anonymous)
    problems.extend(_patient_problems(by_type))
    if problems:
        raise ChartInvalidError(problems)
    ordered = tuple(resource for kind in sorted(by_type) for resource in by_type[kind])
    by_reference = dict(kept)
    # urn:uuid references inside a transaction or collection Bundle point at entry fullUrls.
    by_reference.update(
        {res["_fullUrl"]: res for res in ordered if isinstance(res.get("_fullUrl"), str)}
    )
    return Chart(
        ordered,
        {kind: tuple(items) for kind, items in by_type.items()},
        by_reference,
        observations_from,
    )


def _entry_order(problem: Problem) -> tuple[int, str]:
    """Problems of Bundle entries in entry order; the chart-wide ones (two patients) last."""
    match = re.match(r"entry\[(\d+)\]", problem.field)
    return (int(match.group(1)) if match else 1 << 62, problem.field)


def _path(where: str, index: int, wrapped: bool) -> str:
    return f"{where}[{index}]" + (".resource" if wrapped else "")


def _unreadable_problem(resource: Resource, path: str, unreadable: tuple[str, str]) -> Problem:
    element, rule = unreadable
    record = reference_of(resource) or str(resource["resourceType"])
    return Problem(
        f"{path}.{element}",
        "type",
        f"{record}: {element} must be {rule}; it decides whether the record counts (it may be "
        "entered in error), so the chart cannot be assessed without reading it",
    )


def _grouped(kept: dict[str, Resource], anonymous: list[Resource]) -> dict[str, list[Resource]]:
    """Resources by type, each type in a fixed order: those without id or fullUrl first, by
    content, then the others by reference (unique once duplicates are merged)."""
    by_type: dict[str, list[Resource]] = {}
    for resource in sorted(anonymous, key=_canonical):
        by_type.setdefault(resource["resourceType"], []).append(resource)
    for reference in sorted(kept):
        resource = kept[reference]
        by_type.setdefault(resource["resourceType"], []).append(resource)
    return by_type


def _newer(candidate: Resource, current: Resource) -> bool:
    """Of two copies of one resource, the later version wins (ties: a fixed order, by
    content). Overlapping searches deliver equal copies: those compare without serializing."""
    if candidate.get("meta") is not None or current.get("meta") is not None:
        versions = (_version(candidate), _version(current))
        if versions[0] != versions[1]:
            return versions[0] > versions[1]
    return candidate != current and _canonical(candidate) > _canonical(current)


def _version(resource: Resource) -> tuple[str, str]:
    meta = resource.get("meta")
    if not isinstance(meta, Mapping):
        return ("", "")
    return (str(meta.get("lastUpdated") or ""), str(meta.get("versionId") or ""))


def _canonical(resource: Resource) -> str:
    return json.dumps(resource, sort_keys=True, ensure_ascii=False, default=str)


_SUBJECT_ELEMENTS = ("subject", "patient")
_PATIENT_REFERENCE = re.compile(r"(?:^|/)Patient/([^/]+)")


def _patient_problems(by_type: Mapping[str, Sequence[Resource]]) -> list[Problem]:
    """One patient per chart: a second Patient, or a record about another patient, is bad
    input — assessing it would mix two people's data."""
    patients = by_type.get("Patient", ())
    if len(patients) > 1:
        refs = ", ".join(reference_of(p) or "(no id)" for p in patients)
        return [
            Problem("Patient", "one-patient", f"the chart holds more than one Patient ({refs})")
        ]
    if not patients or not isinstance(patients[0].get("id"), str):
        return []
    own = str(patients[0]["id"])
    own_reference = f"Patient/{own}"
    problems: list[Problem] = []
    for kind in sorted(by_type):
        for resource in by_type[kind]:
            for element in _SUBJECT_ELEMENTS:
                target = resource.get(element)
                if target is None:
                    continue
                ref = (
                    target.get("reference")
                    if type(target) is dict or isinstance(target, Mapping)
                    else None
                )
                if not isinstance(ref, str) or ref == own_reference or "Patient/" not in ref:
                    continue  # the common cases, decided without the pattern
                # urn:uuid references cannot name another patient: the chart holds one Patient.
                match = _PATIENT_REFERENCE.search(ref)
                if match is not None and match.group(1) != own:
                    problems.append(
                        Problem(
                            f"{reference_of(resource) or resource['resourceType']}.{element}",
                            "other-patient",
                            f"refers to {ref}, not to the chart's patient Patient/{own}",
                        )
                    )
    return problems
