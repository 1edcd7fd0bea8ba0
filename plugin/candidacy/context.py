"""What every criterion and safety check reads: the chart, the order, the policy, the
physician's attestations and the date of the assessment — plus the facts several of them share
(medication courses, where a record sits in the spine), worked out once per assessment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import Any

import orjson

from plugin.candidacy.chart import Chart
from plugin.candidacy.elements import repeating
from plugin.candidacy.evidence import main_concept_elements, main_concepts
from plugin.candidacy.level_mentions import levels_in_concepts
from plugin.candidacy.medication_courses import MedicationCourse, medication_courses
from plugin.candidacy.order import Order
from plugin.candidacy.partial_dates import PartialDate
from plugin.candidacy.policy import Policy
from plugin.candidacy.record_status import is_current, is_void
from plugin.candidacy.selections import abatement_date
from plugin.candidacy.value_sets import Match, ValueSet, concept_texts, listed_codes
from plugin.study.levels import Region, region_of

__all__ = ["AssessmentContext"]

Resource = Mapping[str, Any]
_Codes = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class _ConceptIndex:
    """The codes and words of one type's records, read once per assessment: the records
    holding each (system, code), and the records grouped by the words of a main concept with
    that concept's code systems — a long chart repeats the same lab names thousands of times,
    so a value set's terms are tried once per distinct wording."""

    resources: tuple[Resource, ...]
    by_code: dict[tuple[str, str], set[int]]
    words: dict[tuple[tuple[str, ...], _Codes], set[int]]  # (texts, codes) → records

    @classmethod
    def of(cls, resource_type: str, resources: tuple[Resource, ...]) -> _ConceptIndex:
        elements = main_concept_elements(resource_type)
        # A long chart repeats the same concept JSON thousands of times (one lab, one code):
        # the records are grouped by its serialization, and each distinct one is read once.
        groups: dict[bytes, tuple[Any, list[int]]] = {}
        unserializable: list[tuple[Any, list[int]]] = []
        for position, resource in enumerate(resources):
            for element in elements:
                value = resource.get(element)
                if not value:
                    continue
                try:
                    serialized = orjson.dumps(value)
                except TypeError:  # not plain JSON (a Mapping type, a huge integer)
                    unserializable.append((value, [position]))
                    continue
                group = groups.get(serialized)
                if group is None:
                    groups[serialized] = (value, [position])
                else:
                    group[1].append(position)
        by_code: dict[tuple[str, str], set[int]] = {}
        words: dict[tuple[tuple[str, ...], _Codes], set[int]] = {}
        for value, positions in (*groups.values(), *unserializable):
            codes, texts = _concept_keys(value)
            for code in codes:
                by_code.setdefault(code, set()).update(positions)
            for wording in texts:
                words.setdefault(wording, set()).update(positions)
        return cls(resources, by_code, words)


#: A main-concept element's (system, code) pairs and its (texts, codes) word groups.
_ConceptKeys = tuple[_Codes, tuple[tuple[tuple[str, ...], _Codes], ...]]


def _concept_keys(value: Any) -> _ConceptKeys:
    """As main_concepts, codings and concept_texts read a record's main concept element."""
    codes: list[tuple[str, str]] = []
    groups: list[tuple[tuple[str, ...], _Codes]] = []
    for concept in value if isinstance(value, list) else (value,):
        if type(concept) is not dict and not isinstance(concept, Mapping):
            continue
        text = concept.get("text")
        texts: tuple[str, ...] = (text,) if type(text) is str else ()
        own: _Codes = ()
        for coding in repeating(concept.get("coding")):
            if type(coding) is not dict and not isinstance(coding, Mapping):
                continue
            system = coding.get("system")
            if type(system) is str:
                code = coding.get("code")
                if type(code) is str:
                    codes.append((system, code))
                    own += ((system, code),)
            display = coding.get("display")
            if type(display) is str:
                texts += (display,)
        if texts:
            groups.append((texts, own))
    return tuple(codes), tuple(groups)


@dataclass(frozen=True)
class AssessmentContext:
    chart: Chart
    order: Order
    policy: Policy
    attestations: frozenset[str]
    today: date

    @cached_property
    def medication_courses(self) -> tuple[MedicationCourse, ...]:
        return medication_courses(self.chart, self.policy, self.today)

    def courses_of(self, class_ids: tuple[str, ...] | frozenset[str]) -> list[MedicationCourse]:
        return [c for c in self.medication_courses if c.drug_class.id in class_ids]

    def active_courses(self, class_ids: tuple[str, ...] | frozenset[str]) -> list[MedicationCourse]:
        """Courses of these classes the patient may be taking today: current by their dates,
        or recent with an end the chart does not give."""
        return [
            course
            for course in self.courses_of(class_ids)
            if ((last := course.last_day(self.today)) is not None and last >= self.today)
            or self.recent_with_end_unknown(course)
        ]

    def recent_with_end_unknown(self, course: MedicationCourse) -> bool:
        """A course whose end the chart does not give, that no later record of the drug
        settles, and that started within the policy's window: the patient may still be taking
        the drug, or stopped it only days ago."""
        since = self.today - timedelta(days=self.policy.end_unknown_recent_days)
        return course.end_unknown and not course.settled and course.started_since(since)

    def texts_of(self, resource: Resource) -> list[str]:
        """What a record says it is, in words: its main concepts, body sites and notes. Read
        once per record and assessment: several criteria and checks read the same records."""
        known = self._texts.get(id(resource))
        if known is not None:  # the record is held beside its words: its id is not reused
            return list(known[1])
        texts: list[str] = []
        for concept in main_concepts(resource):
            texts.extend(concept_texts(concept))
        for site in repeating(resource.get("bodySite")):
            texts.extend(concept_texts(site))
        description = resource.get("description")
        if isinstance(description, str):
            texts.append(description)
        self._texts[id(resource)] = (resource, tuple(texts))
        return texts

    @cached_property
    def _texts(self) -> dict[int, tuple[Resource, tuple[str, ...]]]:
        return {}

    @cached_property
    def known_codes(self) -> frozenset[tuple[str, str]]:
        """Every code the policy lists, in any value set: a concept carrying one is what the
        policy lists it as, and is not read for the words of another value set."""
        return listed_codes(self.policy)

    def match(self, value_set: ValueSet, resource: Resource) -> Match | None:
        """How a record's main concepts match a value set (see `ValueSet.match`)."""
        return value_set.match_any(main_concepts(resource), self.known_codes)

    def matches(self, value_set: ValueSet, resource: Resource) -> bool:
        return self.match(value_set, resource) is not None

    def matching(self, resource_type: str, value_set: ValueSet) -> list[Resource]:
        """The records of a type that match a value set, in chart order. A chart may hold
        thousands of Observations: codes are looked up in an index built once, and the words
        of each distinct concept are read once."""
        index = self._concept_index(resource_type)
        found: set[int] = set()
        for key in value_set.code_keys:
            found.update(index.by_code.get(key, ()))
        if value_set.text:
            # As ValueSet.match: words decide unless the concept carries a code the policy
            # lists (for this value set, already found above; for another, it is that other).
            known = self.known_codes
            for (texts, codes), positions in index.words.items():
                if known.isdisjoint(codes) and value_set.matches_text(*texts):
                    found.update(positions)
        return [index.resources[position] for position in sorted(found)]

    def _concept_index(self, resource_type: str) -> _ConceptIndex:
        cached = self._indexes.get(resource_type)
        if cached is None:
            cached = _ConceptIndex.of(resource_type, self.chart.of_type(resource_type))
            self._indexes[resource_type] = cached
        return cached

    @cached_property
    def _indexes(self) -> dict[str, _ConceptIndex]:
        return {}

    def regions_of(self, resource: Resource) -> frozenset[Region]:
        """Spinal regions a record names: by region words or by the disc levels it names."""
        regions = set(self.regions_named(self.texts_of(resource)))
        concepts = [*main_concepts(resource), *repeating(resource.get("bodySite"))]
        regions.update(region_of(level) for level in levels_in_concepts(concepts))
        return frozenset(regions)

    def regions_named(self, texts: Sequence[str]) -> frozenset[Region]:
        """Spinal regions the texts name in words, each distinct wording read once per
        assessment (as `in_words`)."""
        key = tuple(texts)
        found = self._regions_named.get(key)
        if found is None:
            found = frozenset(
                region for region, terms in self.policy.regions.items() if terms.matches_text(*key)
            )
            self._regions_named[key] = found
        return found

    @cached_property
    def _regions_named(self) -> dict[tuple[str, ...], frozenset[Region]]:
        return {}

    def in_words(self, value_set: ValueSet, texts: Sequence[str]) -> bool:
        """Whether the texts name a term of the value set (`ValueSet.matches_text`). A long
        chart repeats one wording (session after session of therapy): each distinct wording is
        read once per value set and assessment."""
        key = (id(value_set), tuple(texts))
        known = self._in_words.get(key)
        if known is not None:  # the value set is held beside the answer: its id is not reused
            return known[1]
        found = value_set.matches_text(*key[1])
        self._in_words[key] = (value_set, found)
        return found

    @cached_property
    def _in_words(self) -> dict[tuple[int, tuple[str, ...]], tuple[ValueSet, bool]]:
        return {}

    def in_ordered_region(self, resource: Resource) -> bool:
        """True unless the record is placed only in regions other than the order's."""
        regions = self.regions_of(resource)
        return self.order.region is None or not regions or self.order.region in regions

    def current_conditions(self, value_set: ValueSet) -> list[Resource]:
        """Conditions matching the value set that still apply today."""
        return [condition for condition, _ in self.current_condition_matches(value_set)]

    def current_condition_matches(self, value_set: ValueSet) -> list[tuple[Resource, Match]]:
        """Conditions matching the value set that still apply today, with how each matched."""
        found: list[tuple[Resource, Match]] = []
        for condition in self.chart.of_type("Condition"):
            if not is_current(condition) or self._abated(condition):
                continue
            how = self.match(value_set, condition)
            if how is not None:
                found.append((condition, how))
        return found

    @cached_property
    def has_problem_list(self) -> bool:
        """Whether the chart holds any Condition that is evidence of anything (not entered in
        error or refuted, whatever its clinical status): with none, "no infection on the
        problem list" says nothing — the problem list may simply not be in the chart."""
        return any(not is_void(c, "Condition") for c in self.chart.of_type("Condition"))

    def _abated(self, condition: Resource) -> bool:
        ended: PartialDate | None = abatement_date(condition)
        if ended is not None:
            return ended.latest < self.today
        if "abatementBoolean" in condition:
            return condition["abatementBoolean"] is True
        # abatementString / abatementAge / abatementRange: it abated, the chart says roughly when.
        return any(key.startswith("abatement") for key in condition)

    def attested(self, attestation_id: str | None) -> bool:
        return attestation_id is not None and attestation_id in self.attestations
