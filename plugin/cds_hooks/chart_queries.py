"""The FHIR queries that gather a patient's chart for the candidacy engine — one list, used
both as the services' prefetch templates and, for every key the CDS client did not prefetch,
as the searches we run against `fhirServer`, so the two paths read exactly the same data.

Templates stay inside CDS Hooks 2.0 §Prefetch query restrictions: a read or a type search, the
patient reference, token equality (``category``, ``code``) and nothing else; the only tokens are
``{{context.patientId}}`` (order-select and order-sign mark patientId, userId and encounterId as
prefetch tokens; never draftOrders or selections). Searches are not narrowed by status or date:
conservative care is measured from completed medication courses and past therapy, and the
engine itself decides what is current.

Observations come from two searches: laboratory results (the engine also recognises labs by
their text, so a local code still counts), and every LOINC code the policy reads from an
Observation (labs, pregnancy status, pain scores), since pregnancy status and pain scores are
not laboratory results.

The SMART app, which may search by date, reads laboratory results only as far back as a lab
known by its words alone can change the outcome (`plugin.candidacy.lookback`): a long chart's
years of unrelated labs stay on the server, while every coded result is still read whatever its
age (`app_chart_queries`). The CDS prefetch cannot carry a date (CDS Hooks 2.0 has no date
token), so the services read all laboratory results, fetched or prefetched alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qsl

from plugin.candidacy.lookback import words_only_since
from plugin.candidacy.policy import ConditionDurationCriterion, Policy
from plugin.candidacy.value_sets import CodeRef

__all__ = [
    "PREFETCH_TOKEN",
    "ChartQuery",
    "FhirRead",
    "FhirSearch",
    "app_chart_queries",
    "chart_queries",
    "prefetch_templates",
    "rendered_query",
]

#: The one prefetch token the chart queries use.
PREFETCH_TOKEN = "{{context.patientId}}"  # noqa: S105 - a template token, not a secret

_TOKEN = re.compile(r"\{\{\s*([^}]*?)\s*\}\}")


@dataclass(frozen=True, slots=True)
class ChartQuery:
    """One prefetch key and its template (a relative FHIR URL)."""

    key: str
    template: str

    @property
    def is_read(self) -> bool:
        return "?" not in self.template


@dataclass(frozen=True, slots=True)
class FhirRead:
    resource_type: str
    resource_id: str


@dataclass(frozen=True, slots=True)
class FhirSearch:
    resource_type: str
    params: tuple[tuple[str, str], ...]


def _observation_codes(policy: Policy) -> list[CodeRef]:
    refs: list[CodeRef] = [ref for lab in policy.labs for ref in lab.value_set.codes]
    refs.extend(policy.pregnancy.status.codes)
    for criterion in policy.criteria:
        if isinstance(criterion, ConditionDurationCriterion):
            refs.extend(criterion.pain_scores.codes)
    return refs


def _token_list(refs: list[CodeRef]) -> str:
    seen: dict[str, None] = {}
    for ref in refs:
        seen.setdefault(f"{ref.url}|{ref.code}", None)
    return ",".join(seen)


def chart_queries(policy: Policy) -> tuple[ChartQuery, ...]:
    """The chart's queries in a fixed order (the discovery document lists them so)."""
    patient = f"patient={PREFETCH_TOKEN}"
    queries = [
        ChartQuery("patient", f"Patient/{PREFETCH_TOKEN}"),
        ChartQuery("conditions", f"Condition?{patient}"),
        ChartQuery("procedures", f"Procedure?{patient}"),
        ChartQuery("serviceRequests", f"ServiceRequest?{patient}"),
        ChartQuery("encounters", f"Encounter?{patient}"),
        ChartQuery("medicationRequests", f"MedicationRequest?{patient}"),
        ChartQuery("medicationStatements", f"MedicationStatement?{patient}"),
        ChartQuery("allergies", f"AllergyIntolerance?{patient}"),
        ChartQuery("labResults", f"Observation?{patient}&category=laboratory"),
    ]
    codes = _token_list(_observation_codes(policy))
    if codes:
        queries.append(ChartQuery("codedObservations", f"Observation?{patient}&code={codes}"))
    queries += [
        ChartQuery("diagnosticReports", f"DiagnosticReport?{patient}"),
        ChartQuery("imagingStudies", f"ImagingStudy?{patient}"),
    ]
    return tuple(queries)


def app_chart_queries(policy: Policy, today: date) -> tuple[ChartQuery, ...]:
    """The chart queries as the SMART app runs them: the same list, with laboratory results
    read from the first day a lab known by its words alone can change the outcome, plus
    those with no date the server can search by (dated, for the engine, by `issued`). The
    Observation searches come first: they are the long ones, and a client that bounds its
    requests in flight starts them before the rest. With a policy whose labs count at any
    age, the laboratory search is left whole."""
    since = words_only_since(policy, today)
    labs = f"Observation?patient={PREFETCH_TOKEN}&category=laboratory"
    observations: list[ChartQuery] = []
    others: list[ChartQuery] = []
    for query in chart_queries(policy):
        if query.key == "labResults" and since is not None:
            observations.append(
                ChartQuery("recentLabResults", f"{labs}&date=ge{since.isoformat()}")
            )
            observations.append(ChartQuery("undatedLabResults", f"{labs}&date:missing=true"))
        elif query.template.startswith("Observation?"):
            observations.append(query)
        else:
            others.append(query)
    return (*observations, *others)


def prefetch_templates(queries: tuple[ChartQuery, ...]) -> dict[str, str]:
    """The discovery document's `prefetch` object."""
    return {query.key: query.template for query in queries}


def rendered_query(query: ChartQuery, context: Mapping[str, str]) -> FhirRead | FhirSearch:
    """The template with its tokens replaced from the hook context (root-level strings only),
    as a read or a search. A token naming an absent context field raises KeyError."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if not name.startswith("context."):
            raise KeyError(name)
        return context[name.removeprefix("context.")]

    if query.is_read:
        resource_type, _, template_id = query.template.partition("/")
        return FhirRead(resource_type, _TOKEN.sub(value, template_id))
    resource_type, _, query_string = query.template.partition("?")
    # Split before substituting: an id cannot then add parameters of its own.
    pairs = parse_qsl(query_string, keep_blank_values=True)
    return FhirSearch(resource_type, tuple((name, _TOKEN.sub(value, v)) for name, v in pairs))
