"""The discography order being considered: its region and, when known, its disc levels.

It comes from a ServiceRequest (the draft order of a CDS Hooks request, or one in the chart)
or is given directly as ``{"region": "lumbar", "levels": ["L4-L5", "L5-S1"]}``. The region
follows from the code (CPT 62290/72295 lumbar, 62291/72285 cervical or thoracic; LOINC
37193-0 lumbar, 37192-2 cervical, 70933-7 thoracic, 24927-6 unspecified) and from the levels
in `bodySite` (SNOMED CT disc codes or text); a level outside the region is bad input, except
the thoracolumbar disc T12-L1 in a lumbar order (it is injected like a lumbar disc).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from plugin.candidacy.chart import Chart
from plugin.candidacy.elements import repeating
from plugin.candidacy.level_mentions import levels_in_concepts
from plugin.candidacy.value_sets import codings
from plugin.errors import InputProblemError, Problem
from plugin.study.levels import DISC_LEVELS, Region, is_disc_level, level_index, normalize_level
from plugin.study.levels import region_of as level_region
from plugin.terminology import INJECTION_CPT_BY_REGION, STUDY_LOINC_BY_REGION, system_url

__all__ = [
    "DISCOGRAPHY_CODES",
    "Order",
    "OrderInvalidError",
    "is_discography_request",
    "order_from_json",
    "order_from_service_request",
    "order_in_chart",
]


class OrderInvalidError(InputProblemError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems, "order")


def _discography_codes() -> dict[tuple[str, str], frozenset[Region]]:
    """(system URL, code) → the regions the code may mean."""
    cpt, loinc = system_url("cpt"), system_url("loinc")
    codes: dict[tuple[str, str], frozenset[Region]] = {}
    for region, code in INJECTION_CPT_BY_REGION.items():
        codes[(cpt, code)] = codes.get((cpt, code), frozenset()) | {region}
    # Radiological supervision and interpretation (clinical.md §5).
    codes[(cpt, "72295")] = frozenset({Region.LUMBAR})
    codes[(cpt, "72285")] = frozenset({Region.CERVICAL, Region.THORACIC})
    for maybe_region, code in STUDY_LOINC_BY_REGION.items():
        codes[(loinc, code)] = (
            frozenset(Region) if maybe_region is None else frozenset({maybe_region})
        )
    return codes


#: Codes that make a ServiceRequest a discography order, with the regions each may mean.
DISCOGRAPHY_CODES: dict[tuple[str, str], frozenset[Region]] = _discography_codes()


class Order(BaseModel):
    """What is being ordered: region (None when not known) and disc levels (possibly none)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: Region | None = None
    levels: tuple[str, ...] = ()
    reference: str | None = None  # "ServiceRequest/123" when built from one

    @property
    def description(self) -> str:
        region = (
            f"{self.region.value} discography" if self.region else "discography (region not given)"
        )
        return f"{region} at {', '.join(self.levels)}" if self.levels else region


def is_discography_request(resource: Any) -> bool:
    """Whether a resource is a ServiceRequest coded as discography (CPT or LOINC, §5)."""
    if not isinstance(resource, Mapping) or resource.get("resourceType") != "ServiceRequest":
        return False
    return any(
        (str(c.get("system")), str(c.get("code"))) in DISCOGRAPHY_CODES
        for c in codings(resource.get("code"))
    )


def order_from_service_request(resource: Any) -> Order:
    """The order a discography ServiceRequest describes. Raises `OrderInvalidError` for
    anything else, or for levels that contradict the code's region."""
    if not isinstance(resource, Mapping) or resource.get("resourceType") != "ServiceRequest":
        raise OrderInvalidError(
            [Problem("resourceType", "not-service-request", "an order must be a ServiceRequest")]
        )
    regions: frozenset[Region] = frozenset(Region)
    coded = False
    for coding in codings(resource.get("code")):
        meaning = DISCOGRAPHY_CODES.get((str(coding.get("system")), str(coding.get("code"))))
        if meaning is not None:
            coded = True
            regions &= meaning
    if not coded:
        raise OrderInvalidError(
            [
                Problem(
                    "code",
                    "not-discography",
                    "is not a discography code (expected CPT 62290, 62291, 72285 or 72295, or "
                    "LOINC 37193-0, 37192-2, 70933-7 or 24927-6)",
                )
            ]
        )
    if not regions:
        raise OrderInvalidError(
            [Problem("code", "regions-disagree", "the codes name different spinal regions")]
        )
    levels = levels_in_concepts(repeating(resource.get("bodySite")))
    reference = f"ServiceRequest/{resource['id']}" if isinstance(resource.get("id"), str) else None
    return _checked(regions, levels, "bodySite", reference)


def order_from_json(data: Any) -> Order:
    """An order from a ServiceRequest or ``{"region": …, "levels": [...]}``."""
    if isinstance(data, Mapping) and "resourceType" in data:
        return order_from_service_request(data)
    if not isinstance(data, Mapping):
        raise OrderInvalidError(
            [Problem("", "type", 'an order must be a ServiceRequest or {"region", "levels"}')]
        )
    problems: list[Problem] = []
    unknown = sorted(set(data) - {"region", "levels"})
    problems.extend(Problem(key, "extra_forbidden", "is not a known field") for key in unknown)
    region_value = data.get("region")
    regions: frozenset[Region] = frozenset(Region)
    if region_value is not None:
        try:
            regions = frozenset({Region(region_value)})
        except ValueError:
            problems.append(
                Problem(
                    "region",
                    "enum",
                    f"must be one of {', '.join(r.value for r in Region)} (got {region_value!r})",
                )
            )
    raw_levels = data.get("levels", [])
    levels: list[str] = []
    if not isinstance(raw_levels, list):
        problems.append(Problem("levels", "type", "must be a list of disc levels"))
    else:
        for index, raw in enumerate(raw_levels):
            name = normalize_level(raw) if isinstance(raw, str) else None
            if name is None or not is_disc_level(name):
                problems.append(
                    Problem(
                        f"levels[{index}]",
                        "unknown-level",
                        f"unknown disc level {raw!r}; expected one of {DISC_LEVELS[0]} … "
                        f"{DISC_LEVELS[-1]} such as 'L4-L5'",
                    )
                )
            elif name not in levels:
                levels.append(name)
    if problems:
        raise OrderInvalidError(problems)
    return _checked(regions, tuple(sorted(levels, key=level_index)), "levels", None)


def _fits(level: str, region: Region) -> bool:
    return level_region(level) is region or (level == "T12-L1" and region is Region.LUMBAR)


def _checked(
    regions: frozenset[Region], levels: tuple[str, ...], field: str, reference: str | None
) -> Order:
    """Narrow the possible regions with the levels; one region left is the order's region."""
    if levels:
        fitting = frozenset(r for r in regions if all(_fits(level, r) for level in levels))
        if not fitting:
            allowed = " or ".join(sorted(r.value for r in regions))
            raise OrderInvalidError(
                [
                    Problem(
                        field,
                        "level-outside-region",
                        f"{', '.join(levels)} cannot all be injected in a {allowed} discography",
                    )
                ]
            )
        regions = fitting
    region = next(iter(regions)) if len(regions) == 1 else None
    return Order(region=region, levels=levels, reference=reference)


#: ServiceRequest statuses of an order still to be carried out (request-status).
_OPEN = frozenset({"draft", "active", "on-hold"})


def order_in_chart(chart: Chart) -> Order | None:
    """The open discography order in the chart, the most recently authored if several; None
    when there is none."""
    requests = [
        r
        for r in chart.of_type("ServiceRequest")
        if is_discography_request(r) and r.get("status", "active") in _OPEN
    ]
    if not requests:
        return None
    latest = max(requests, key=lambda r: (str(r.get("authoredOn") or ""), str(r.get("id") or "")))
    return order_from_service_request(latest)
