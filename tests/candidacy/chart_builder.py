"""Small factories for FHIR R4 chart resources, dated relative to a fixed TODAY, and a good
lumbar candidate's chart that each test changes in one respect."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from plugin.candidacy import Assessment, Order, assess_candidacy, chart_from_resources
from plugin.candidacy.partial_dates import add_months
from plugin.candidacy.policy import Policy
from plugin.study.levels import Region

__all__ = [
    "BOTH",
    "CERVICAL",
    "CPT",
    "LOINC",
    "LUMBAR",
    "PATIENT",
    "SNOMED",
    "TODAY",
    "Resource",
    "ago",
    "allergy",
    "assess",
    "concept",
    "condition",
    "egfr",
    "good_lumbar_chart",
    "inr",
    "med_request",
    "med_statement",
    "mri_report",
    "observation",
    "patient",
    "platelets",
    "pregnancy_status",
    "procedure",
    "pt_sessions",
    "without",
]

TODAY = date(2025, 6, 15)
PATIENT = "Patient/p1"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
CPT = "http://www.ama-assn.org/go/cpt"
BOTH = ("imaging-inconclusive", "decision-hinges")
LUMBAR = Order(region=Region.LUMBAR, levels=("L3-L4", "L4-L5", "L5-S1"))
CERVICAL = Order(region=Region.CERVICAL, levels=("C4-C5", "C5-C6", "C6-C7"))

Resource = dict[str, Any]


def ago(days: int = 0, *, months: int = 0) -> str:
    return (add_months(TODAY, -months) - timedelta(days=days)).isoformat()


def concept(text: str | None = None, *codes: tuple[str, str]) -> dict[str, Any]:
    value: dict[str, Any] = {}
    if codes:
        value["coding"] = [{"system": system, "code": code} for system, code in codes]
    if text is not None:
        value["text"] = text
    return value


def patient(
    sex: str | None = "male", birth: str | None = "1968-04-02", pid: str = "p1"
) -> Resource:
    resource: Resource = {"resourceType": "Patient", "id": pid, "name": [{"family": "Test"}]}
    if sex is not None:
        resource["gender"] = sex
    if birth is not None:
        resource["birthDate"] = birth
    return resource


def condition(
    text: str,
    cid: str,
    *,
    onset: str | None = None,
    recorded: str | None = None,
    clinical: str | None = "active",
    verification: str | None = "confirmed",
    abatement: str | None = None,
    severity: str | None = None,
    note: str | None = None,
    codes: Iterable[tuple[str, str]] = (),
    body_site: dict[str, Any] | None = None,
) -> Resource:
    resource: Resource = {
        "resourceType": "Condition",
        "id": cid,
        "subject": {"reference": PATIENT},
        "code": concept(text, *codes),
    }
    if clinical is not None:
        resource["clinicalStatus"] = concept(
            None, ("http://terminology.hl7.org/CodeSystem/condition-clinical", clinical)
        )
    if verification is not None:
        resource["verificationStatus"] = concept(
            None, ("http://terminology.hl7.org/CodeSystem/condition-ver-status", verification)
        )
    if onset is not None:
        resource["onsetDateTime"] = onset
    if recorded is not None:
        resource["recordedDate"] = recorded
    if abatement is not None:
        resource["abatementDateTime"] = abatement
    if severity is not None:
        resource["severity"] = concept(severity)
    if note is not None:
        resource["note"] = [{"text": note}]
    if body_site is not None:
        resource["bodySite"] = [body_site]
    return resource


def procedure(
    pid: str,
    *,
    text: str | None = None,
    cpt: str | None = None,
    performed: str | None = None,
    period: tuple[str, str | None] | None = None,
    status: str = "completed",
    body_site: dict[str, Any] | None = None,
) -> Resource:
    codes = [(CPT, cpt)] if cpt else []
    resource: Resource = {
        "resourceType": "Procedure",
        "id": pid,
        "status": status,
        "subject": {"reference": PATIENT},
        "code": concept(text, *codes),
    }
    if performed is not None:
        resource["performedDateTime"] = performed
    if period is not None:
        resource["performedPeriod"] = {"start": period[0]} | (
            {"end": period[1]} if period[1] else {}
        )
    if body_site is not None:
        resource["bodySite"] = [body_site]
    return resource


def pt_sessions(
    first_days_ago: int, weeks: int, *, prefix: str = "pt", cpt: str = "97110"
) -> list[Resource]:
    """Weekly physical-therapy sessions from `first_days_ago`, `weeks` + 1 of them."""
    return [
        procedure(
            f"{prefix}-{i}",
            cpt=cpt,
            text="Therapeutic exercise",
            performed=ago(first_days_ago - 7 * i),
        )
        for i in range(weeks + 1)
    ]


def med_request(
    text: str,
    mid: str,
    *,
    status: str = "active",
    authored: str | None = None,
    bounds: tuple[str, str | None] | None = None,
    supply_days: int | None = None,
    repeats: int | None = None,
    validity: tuple[str, str] | None = None,
    intent: str = "order",
) -> Resource:
    resource: Resource = {
        "resourceType": "MedicationRequest",
        "id": mid,
        "status": status,
        "intent": intent,
        "subject": {"reference": PATIENT},
        "medicationCodeableConcept": concept(text),
    }
    if authored is not None:
        resource["authoredOn"] = authored
    if bounds is not None:
        period = {"start": bounds[0]} | ({"end": bounds[1]} if bounds[1] else {})
        resource["dosageInstruction"] = [{"timing": {"repeat": {"boundsPeriod": period}}}]
    dispense: dict[str, Any] = {}
    if supply_days is not None:
        dispense["expectedSupplyDuration"] = {
            "value": supply_days,
            "unit": "days",
            "system": "http://unitsofmeasure.org",
            "code": "d",
        }
    if repeats is not None:
        dispense["numberOfRepeatsAllowed"] = repeats
    if validity is not None:
        dispense["validityPeriod"] = {"start": validity[0], "end": validity[1]}
    if dispense:
        resource["dispenseRequest"] = dispense
    return resource


def med_statement(
    text: str,
    mid: str,
    *,
    status: str = "active",
    start: str | None = None,
    end: str | None = None,
    effective: str | None = None,
    asserted: str | None = None,
) -> Resource:
    resource: Resource = {
        "resourceType": "MedicationStatement",
        "id": mid,
        "status": status,
        "subject": {"reference": PATIENT},
        "medicationCodeableConcept": concept(text),
    }
    if start is not None:
        resource["effectivePeriod"] = {"start": start} | ({"end": end} if end else {})
    if effective is not None:
        resource["effectiveDateTime"] = effective
    if asserted is not None:
        resource["dateAsserted"] = asserted
    return resource


def observation(
    oid: str,
    *,
    loinc: str | None = None,
    text: str | None = None,
    when: str | None = None,
    value: float | None = None,
    unit: str | None = None,
    ucum: str | None = None,
    comparator: str | None = None,
    value_string: str | None = None,
    answer: tuple[str, str] | None = None,
    answer_text: str | None = None,
    status: str = "final",
) -> Resource:
    codes = [(LOINC, loinc)] if loinc else []
    resource: Resource = {
        "resourceType": "Observation",
        "id": oid,
        "status": status,
        "subject": {"reference": PATIENT},
        "code": concept(text, *codes),
    }
    if when is not None:
        resource["effectiveDateTime"] = when
    if value is not None:
        quantity: dict[str, Any] = {"value": value}
        if unit is not None:
            quantity["unit"] = unit
        if ucum is not None:
            quantity |= {"system": "http://unitsofmeasure.org", "code": ucum}
        if comparator is not None:
            quantity["comparator"] = comparator
        resource["valueQuantity"] = quantity
    if value_string is not None:
        resource["valueString"] = value_string
    if answer is not None or answer_text is not None:
        resource["valueCodeableConcept"] = concept(answer_text, *([answer] if answer else []))
    return resource


def egfr(value: float, *, days_ago: int = 5, oid: str = "egfr-1", **extra: Any) -> Resource:
    return observation(
        oid,
        loinc="98979-8",
        when=ago(days_ago),
        value=value,
        unit="mL/min/1.73m2",
        ucum="mL/min/{1.73_m2}",
        **extra,
    )


def inr(value: float, *, days_ago: int = 5, oid: str = "inr-1") -> Resource:
    return observation(oid, loinc="6301-6", when=ago(days_ago), value=value, ucum="{INR}")


def platelets(value: float, *, days_ago: int = 5, oid: str = "plt-1") -> Resource:
    return observation(oid, loinc="777-3", when=ago(days_ago), value=value, ucum="10*3/uL")


def pregnancy_status(answer: str, *, days_ago: int = 3, oid: str = "preg-1") -> Resource:
    return observation(oid, loinc="82810-3", when=ago(days_ago), answer=(SNOMED, answer))


def mri_report(
    rid: str = "mri-1",
    *,
    loinc: str | None = "24968-0",
    text: str | None = "MRI lumbar spine",
    when: str | None = None,
    status: str = "final",
    conclusion: str | None = "L4-L5 disc degeneration with an annular fissure.",
) -> Resource:
    codes = [(LOINC, loinc)] if loinc else []
    resource: Resource = {
        "resourceType": "DiagnosticReport",
        "id": rid,
        "status": status,
        "subject": {"reference": PATIENT},
        "code": concept(text, *codes),
    }
    if when is not None:
        resource["effectiveDateTime"] = when
    if conclusion is not None:
        resource["conclusion"] = conclusion
    return resource


def allergy(
    aid: str,
    *,
    text: str | None = None,
    snomed: str | None = None,
    clinical: str = "active",
    verification: str = "confirmed",
    criticality: str | None = None,
    reaction: str | None = None,
) -> Resource:
    codes = [(SNOMED, snomed)] if snomed else []
    resource: Resource = {
        "resourceType": "AllergyIntolerance",
        "id": aid,
        "patient": {"reference": PATIENT},
        "code": concept(text, *codes),
        "clinicalStatus": concept(
            None, ("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", clinical)
        ),
        "verificationStatus": concept(
            None,
            ("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", verification),
        ),
    }
    if criticality is not None:
        resource["criticality"] = criticality
    if reaction is not None:
        resource["reaction"] = [{"manifestation": [concept(reaction)]}]
    return resource


def good_lumbar_chart() -> list[Resource]:
    """A 57-year-old man: low back pain 14 months, weekly physical therapy for 16 weeks,
    naproxen for 5 months, a lumbar MRI 10 weeks ago, a normal eGFR 5 days ago."""
    return [
        patient(),
        condition("Chronic low back pain", "lbp", onset=ago(months=14)),
        *pt_sessions(200, 16),
        med_request("naproxen 500 mg oral tablet", "naproxen", authored=ago(months=5)),
        mri_report(when=ago(70)),
        egfr(82),
    ]


def without(resources: list[Resource], *ids: str) -> list[Resource]:
    return [r for r in resources if r.get("id") not in ids]


def assess(
    resources: Iterable[Resource],
    *,
    order: Order | None = LUMBAR,
    attest: Iterable[str] = BOTH,
    policy: Policy | None = None,
    today: date = TODAY,
) -> Assessment:
    return assess_candidacy(
        chart_from_resources(list(resources)),
        today=today,
        order=order,
        attestations=attest,
        policy=policy,
    )
