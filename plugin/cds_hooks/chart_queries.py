"""The FHIR queries that gather a patient's chart for the candidacy engine — one list, used
both as the services' prefetch templates and, for every key the CDS client did not prefetch,
as the searches we run against `fhirServer`, so the two paths read exactly the same data.

Templates stay inside CDS Hooks 2.0 §Prefetch query restrictions — a read or a type search, the
patient reference, token equality (``category``, ``code``), ``_sort`` and ``_count`` — but for
``date:missing=true`` on the undated searches (a client that cannot run it leaves the key out,
and we fetch it; an EHR without it is read whole for its undated records). The only token is
``{{context.patientId}}`` (order-select and order-sign mark patientId, userId and encounterId
as prefetch tokens; never draftOrders or selections). Searches other than Observations are not
narrowed: conservative care is measured from completed medication courses and past therapy,
and the engine itself decides what is current.

Observations come from two searches: laboratory results (the engine also recognises labs by
their text, so a local code still counts), and every LOINC code the policy reads from an
Observation (labs, pregnancy status, pain scores), since pregnancy status and pain scores are
not laboratory results.

An Observation older than every window the policy judges one in cannot change an assessment's
outcome, a criterion's status or a safety item (`plugin.candidacy.lookback`); a long chart
holds years of them. CDS Hooks 2.0 has no date token, so the services ask for each Observation
search latest first (``_sort=-date&_count=``, the spec's own idiom for "the latest results")
and count only its records from that horizon on (`latest_first`): a first page that shows it
reaches back past the horizon is the whole answer, and the records we fetch ourselves are
searched by date. Each has an undated twin (``date:missing=true``) for the records with no
effective date, which no sort places and which count whatever their age. The SMART app, which
may search by date, asks for laboratory results from the horizon (and the undated ones) and for
the coded Observations whole (`app_chart_queries`). With a policy whose labs count at any age,
no search is narrowed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qsl

from plugin.candidacy.lookback import words_only_lookback_days, words_only_since
from plugin.candidacy.policy import ConditionDurationCriterion, Policy
from plugin.candidacy.value_sets import CodeRef

__all__ = [
    "LATEST_FIRST",
    "LATEST_FIRST_PAGE",
    "PREFETCH_TOKEN",
    "UNDATED",
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

#: Results a latest-first search asks for on its first page: a year of a busy outpatient's
#: laboratory results (a dozen a week), so the first page usually reaches back past the
#: horizon and the month before it. A denser chart, or a server that sends fewer per page, is
#: searched by date instead: larger pages would slow every call for the rare chart.
LATEST_FIRST_PAGE = 600
#: The parameters that make an Observation search latest first.
LATEST_FIRST = (("_sort", "-date"), ("_count", str(LATEST_FIRST_PAGE)))


#: The parameter that finds the Observations with no effective date (outside CDS Hooks 2.0's
#: recommended query subset: a client that cannot run it leaves it to us).
UNDATED = ("date:missing", "true")


@dataclass(frozen=True, slots=True)
class ChartQuery:
    """One prefetch key and its template (a relative FHIR URL). A `latest_first` search is
    sorted newest first, and only its records dated on or after the policy's horizon count
    (`latest_first`); an `undated` one finds those of the same search with no date to sort
    by, which count whatever their age."""

    key: str
    template: str
    latest_first: bool = False
    undated: bool = False

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
    """The chart's queries as the CDS services run them, in a fixed order (the discovery
    document lists them so)."""
    return _queries(policy, latest_first=words_only_lookback_days(policy) is not None)


def _queries(policy: Policy, *, latest_first: bool) -> tuple[ChartQuery, ...]:
    patient = f"patient={PREFETCH_TOKEN}"
    window = "&" + "&".join(f"{name}={value}" for name, value in LATEST_FIRST)

    def observations(key: str, params: str) -> list[ChartQuery]:
        if not latest_first:
            return [ChartQuery(key, f"Observation?{patient}&{params}")]
        undated_key = f"undated{key[0].upper()}{key[1:]}"
        return [
            ChartQuery(key, f"Observation?{patient}&{params}{window}", latest_first=True),
            ChartQuery(
                undated_key, f"Observation?{patient}&{params}&{'='.join(UNDATED)}", undated=True
            ),
        ]

    queries = [
        ChartQuery("patient", f"Patient/{PREFETCH_TOKEN}"),
        ChartQuery("conditions", f"Condition?{patient}"),
        ChartQuery("procedures", f"Procedure?{patient}"),
        ChartQuery("serviceRequests", f"ServiceRequest?{patient}"),
        ChartQuery("encounters", f"Encounter?{patient}"),
        ChartQuery("medicationRequests", f"MedicationRequest?{patient}"),
        ChartQuery("medicationStatements", f"MedicationStatement?{patient}"),
        ChartQuery("allergies", f"AllergyIntolerance?{patient}"),
        *observations("labResults", "category=laboratory"),
    ]
    codes = _token_list(_observation_codes(policy))
    if codes:
        queries += observations("codedObservations", f"code={codes}")
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
    for query in _queries(policy, latest_first=False):
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
