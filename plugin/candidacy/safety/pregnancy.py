"""Pregnancy: pregnant → not a candidate; unknown for a patient of child-bearing potential →
test first (shared/clinical.md §4; seed 002; LOINC 82810-3 with SNOMED CT answers 77386006
pregnant, 60001007 not pregnant, 261665006 unknown).

The latest statement wins: a pregnancy-status observation, a pregnancy test reported as text,
or an active pregnancy condition. Records of the same day are ordered by their time when both
give one with its zone; results the chart cannot put in order (same day without times, same
moment) that disagree about "pregnant" need a repeat test — a negative never silently wins.
A pregnancy test or status whose result the policy cannot read (a quantitative hCG:
clinical.md cites no hCG code or range) decides nothing, but one later than
every readable statement and within the longest of the validity periods below is named so that
someone reviews it — beside a current "not pregnant", it makes the item needing action; an older
one could not change the answer even if read. A "pregnant" statement stays current for the policy's
pregnant_valid_days; a "not pregnant" one for not_pregnant_valid_days. Child-bearing potential
is defined in the policy (sex, age range, conditions or procedures that end it: only a
completed Procedure done by today, or an established Condition of the patient's own — not a
family history — counts, and the record used is named in an information item); a patient
whose sex or age is not recorded is treated as possibly of child-bearing potential. The chart's
only sex is Patient.gender, an administrative gender: `other` and `unknown` do not say the
patient's sex, so only `male` or `female` outside the policy's sexes ends the check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from plugin.candidacy.assessment import Evidence, SafetyItem, SafetyKind, SuggestedOrder
from plugin.candidacy.context import AssessmentContext
from plugin.candidacy.evidence import evidence
from plugin.candidacy.partial_dates import PartialDate, Precision
from plugin.candidacy.phrases import listing, named, number, read_from
from plugin.candidacy.policy import Pregnancy, Severity
from plugin.candidacy.record_status import describes_family_history, is_established, status
from plugin.candidacy.selections import recorded_date, timing
from plugin.candidacy.value_sets import ValueSet, concept_texts
from plugin.terminology import standard_code

__all__ = ["pregnancy_items"]

Resource = Mapping[str, Any]
Answer = Literal["pregnant", "not-pregnant", "unknown"]
_RESULT_STATUS = frozenset({"final", "amended", "corrected", "preliminary"})
#: Administrative genders (administrative-gender) that state a sex; `other` and `unknown` do not.
_STATED_SEXES = frozenset({"male", "female"})


@dataclass(frozen=True, slots=True)
class _Statement:
    resource: Resource
    answer: Answer | None  # None: a result the policy cannot read
    when: PartialDate
    test: bool = False  # a pregnancy test, not a pregnancy-status observation or condition


def pregnancy_items(context: AssessmentContext) -> list[SafetyItem]:
    rules = context.policy.pregnancy
    today = context.today
    records = sorted(
        _statements(context, rules),
        key=lambda s: (s.when.latest, _CAUTION[s.answer], str(s.resource.get("id", ""))),
        reverse=True,
    )
    statements = [s for s in records if s.answer is not None]
    # The last word may be several records whose order the chart does not show (same day
    # without a time, same instant): the most cautious answer among them stands, and one that
    # disagrees is a conflict to resolve, never silently outvoted.
    last = _possibly_last(statements)
    latest = max(last, key=_caution) if last else None
    conflicting = [s for s in last if latest is not None and s.answer != latest.answer]
    # A later result nobody can read from the chart may say what the readable ones do not —
    # if it is recent enough that a readable one of its date could still be current.
    relevant_days = max(rules.pregnant_valid_days, rules.not_pregnant_valid_days)
    unread = next(
        (
            s
            for s in records
            if s.answer is None
            and (today - s.when.latest).days <= relevant_days
            and (latest is None or s.when.latest > latest.when.latest)
        ),
        None,
    )
    # Test first (clinical.md §4): the order is a pregnancy test; 82810-3 is the status the
    # result is recorded as, not an orderable test.
    order = SuggestedOrder.of(
        rules.suggested_order, "Pregnancy test (hCG)", phrase="a pregnancy test"
    )
    if (
        latest is not None
        and latest.answer == "pregnant"
        and (today - latest.when.latest).days <= rules.pregnant_valid_days
    ):
        if conflicting:
            return [_conflict_item(latest, conflicting, order, rules)]
        return [
            SafetyItem(
                id="pregnancy",
                kind=SafetyKind.PREGNANCY,
                severity=Severity.CONTRAINDICATION,
                title="Pregnant",
                explanation=f"{named(latest.resource)} on {latest.when} records the patient "
                "as pregnant: fluoroscopy and contrast injection are not done in pregnancy.",
                action="Not a candidate while pregnant.",
                evidence=(_evidence(latest),),
            )
        ]
    potential = _child_bearing_potential(context, rules)
    if potential.ended_by is not None:
        return [_not_of_child_bearing_potential(potential.ended_by, potential.why)]
    if not potential.possible:
        return []
    found = _what_is_known(latest, unread, rules, today, context.chart.observations_from)
    if found is None:
        return []
    shown = [s for s in (latest, unread) if s is not None]
    return [
        SafetyItem(
            id="pregnancy",
            kind=SafetyKind.PREGNANCY,
            severity=Severity.ACTION,
            title="Pregnancy status unknown",
            explanation=f"The patient may be of child-bearing potential ({potential.why}) and "
            f"{found}.",
            action=f"Order {order.in_words} and confirm pregnancy status before the "
            f"procedure{_record_as(rules)}.",
            evidence=tuple(_evidence(s) for s in shown),
            suggested_order=order,
        )
    ]


#: How cautious an answer is: where the chart cannot order two answers, the more cautious one
#: stands (pregnant, then unknown, then not pregnant).
_CAUTION: dict[Answer | None, int] = {"pregnant": 3, "unknown": 2, "not-pregnant": 1, None: 0}


def _caution(statement: _Statement) -> tuple[int, date, str]:
    return (
        _CAUTION[statement.answer],
        statement.when.latest,
        str(statement.resource.get("id", "")),
    )


def _certainly_after(later: _Statement, earlier: _Statement) -> bool:
    """True when the chart shows `later` was recorded after `earlier`: by the moment when
    both give a time with its zone, else by days that do not overlap."""
    if later.when.instant is not None and earlier.when.instant is not None:
        return later.when.instant > earlier.when.instant
    return later.when.earliest > earlier.when.latest


def _possibly_last(statements: list[_Statement]) -> list[_Statement]:
    """The statements no other one is certainly later than."""
    return [s for s in statements if not any(_certainly_after(other, s) for other in statements)]


def _conflict_item(
    pregnant: _Statement,
    conflicting: list[_Statement],
    order: SuggestedOrder,
    rules: Pregnancy,
) -> SafetyItem:
    """A "pregnant" and another answer the chart cannot put in order: repeat the test."""
    other = conflicting[0]
    others = listing(f"{named(s.resource)} as {_ANSWER_WORDS[s.answer]}" for s in conflicting)
    days = sorted({str(s.when) for s in (pregnant, *conflicting)})
    if pregnant.when.instant is not None and pregnant.when.instant == other.when.instant:
        unordered = "both are recorded at the same moment"
    elif pregnant.when.precision is Precision.DAY and other.when.precision is Precision.DAY:
        unordered = (
            "the chart does not give a time of day for each, so it does not show which came later"
        )
    else:
        unordered = "a date is charted without its day, so the chart does not show which came later"
    return SafetyItem(
        id="pregnancy",
        kind=SafetyKind.PREGNANCY,
        severity=Severity.ACTION,
        title="Pregnancy results conflict",
        explanation=f"Conflicting pregnancy results on {listing(days)}: "
        f"{named(pregnant.resource)} records the patient as pregnant and {others}, and "
        f"{unordered}. Fluoroscopy and contrast injection are not done in pregnancy.",
        action=f"Repeat the test: order {order.in_words} and confirm pregnancy status before the "
        f"procedure{_record_as(rules)}.",
        evidence=tuple(_evidence(s) for s in (pregnant, *conflicting)),
        suggested_order=order,
    )


_ANSWER_WORDS: dict[Answer | None, str] = {
    "pregnant": "pregnant",
    "not-pregnant": "not pregnant",
    "unknown": "pregnancy status unknown",
    None: "a result the policy cannot read",
}


def _what_is_known(
    latest: _Statement | None,
    unread: _Statement | None,
    rules: Pregnancy,
    today: date,
    observations_from: date | None = None,
) -> str | None:
    """What the chart says about pregnancy, in words; None when a current "not pregnant" is
    the last word on it."""
    if latest is not None and latest.answer == "not-pregnant":
        age = (today - latest.when.earliest).days
        if age <= rules.not_pregnant_valid_days and unread is None:
            return None
        valid = (
            f" (valid {rules.not_pregnant_valid_days} days)"
            if age > rules.not_pregnant_valid_days
            else ""
        )
        which = "latest result" if unread is None else "latest readable result"
        found = (
            f"the {which}, not pregnant on {latest.when} "
            f"({named(latest.resource)}), is {age} days old{valid}"
        )
    elif latest is not None and latest.answer == "unknown":
        found = f"pregnancy status is unknown on {latest.when} ({named(latest.resource)})"
    elif latest is not None:
        found = f"the last pregnancy record, {latest.when}, is no longer current"
    elif observations_from is not None:
        found = f"no pregnancy status {read_from(observations_from)}"
    else:
        found = "no pregnancy status is recorded"
    if unread is None:
        return found
    result = _result_words(unread.resource)
    kind = "pregnancy test result" if unread.test else "pregnancy status result"
    unread_words = (
        f"{kind}, {named(unread.resource)} on {unread.when}"
        f"{f' ({result})' if result else ''}, is recorded but not as a pregnancy status the "
        "policy can read: review it"
    )
    return f"a {unread_words}" if latest is None else f"{found}; a later {unread_words}"


def _record_as(rules: Pregnancy) -> str:
    """ " (record the result as Pregnancy status, LOINC 82810-3)": the policy's status code."""
    for ref in rules.status.codes:
        if ref.governed_key == "loinc" and ref.listed():
            return (
                f" (record the result as {standard_code('loinc', ref.code).name}, LOINC {ref.code})"
            )
    return ""


def _statements(context: AssessmentContext, rules: Pregnancy) -> list[_Statement]:
    found: list[_Statement] = []
    statuses = context.matching("Observation", rules.status)
    status_ids = {id(o) for o in statuses}
    tests = [o for o in context.matching("Observation", rules.tests) if id(o) not in status_ids]
    for observation in [*statuses, *tests]:
        value = observation.get("status")
        if isinstance(value, str) and value not in _RESULT_STATUS:
            continue
        answer = (
            _status_answer(rules, observation)
            if id(observation) in status_ids
            else _test_answer(rules, observation)
        )
        when = timing(observation).start or recorded_date(observation)
        if when is not None and when.earliest <= context.today:
            found.append(_Statement(observation, answer, when, id(observation) not in status_ids))
    for condition in context.current_conditions(rules.conditions):
        when = timing(condition).start or recorded_date(condition)
        if when is not None:
            found.append(_Statement(condition, "pregnant", when))
    return found


def _status_answer(rules: Pregnancy, observation: Resource) -> Answer | None:
    concept = observation.get("valueCodeableConcept")
    texts = concept_texts(concept)
    if isinstance(observation.get("valueString"), str):
        texts.append(observation["valueString"])
    # "not pregnant" contains "pregnant": the more specific answers are tried first.
    answers: tuple[tuple[Answer, ValueSet], ...] = (
        ("not-pregnant", rules.not_pregnant),
        ("unknown", rules.unknown),
        ("pregnant", rules.pregnant),
    )
    for answer, value_set in answers:
        if value_set.matched_code(concept) is not None:
            return answer
    for answer, value_set in answers:
        if value_set.matches_text(*texts):
            return answer
    return None


def _test_answer(rules: Pregnancy, observation: Resource) -> Answer | None:
    texts = concept_texts(observation.get("valueCodeableConcept"))
    if isinstance(observation.get("valueString"), str):
        texts.append(observation["valueString"])
    if rules.test_negative.matches_text(*texts):
        return "not-pregnant"
    if rules.test_positive.matches_text(*texts):
        return "pregnant"
    return None


@dataclass(frozen=True, slots=True)
class _Potential:
    possible: bool  # possibly of child-bearing potential
    why: str  # in words: "female, age 34", "sex male"
    ended_by: Resource | None = None  # the chart record that ends it, if one does


def _child_bearing_potential(context: AssessmentContext, rules: Pregnancy) -> _Potential:
    policy = rules.child_bearing_potential
    sex = context.chart.sex()
    age = context.chart.age_on(context.today)
    if sex in _STATED_SEXES and sex not in policy.sexes:
        return _Potential(False, f"sex {sex}")
    if age is not None and not policy.min_age_years <= age <= policy.max_age_years:
        return _Potential(False, f"age {age}")
    if not policy.excluded_by.empty:
        for resource in context.chart.of_type("Procedure", "Condition"):
            if not _ends_potential(context, resource):
                continue
            texts = context.texts_of(resource)
            if policy.excluded_by.matches_text(*texts) and not policy.not_counted.matches_text(
                *texts
            ):
                return _Potential(False, _record_words(resource), resource)
    if sex is None:
        sex_words = "sex not recorded"
    elif sex in _STATED_SEXES:
        sex_words = sex
    else:
        sex_words = f"administrative gender {sex}, which does not record the sex"
    age_words = f"age {age}" if age is not None else "age not recorded"
    return _Potential(True, f"{sex_words}, {age_words}")


def _ends_potential(context: AssessmentContext, resource: Resource) -> bool:
    """Whether a record may end child-bearing potential at all, whatever it names: a
    Procedure done (completed, on or before today — a planned hysterectomy ends nothing yet),
    or an established Condition of the patient's own (not a family history, not provisional,
    refuted or in error; any clinical status: a resolved "postmenopausal" still holds), not
    dated after today."""
    when = timing(resource).start or recorded_date(resource)
    if when is not None and when.earliest > context.today:
        return False
    if resource.get("resourceType") == "Procedure":
        return status(resource) == "completed"
    return is_established(resource) and not describes_family_history(context.texts_of(resource))


def _record_words(resource: Resource) -> str:
    """ "Total abdominal hysterectomy (Procedure/h1), performed 2023-04-06"."""
    performed = timing(resource).start
    if resource.get("resourceType") == "Procedure":
        return f"{named(resource)}, " + (f"performed {performed}" if performed else "undated")
    recorded = recorded_date(resource)
    if performed is not None:
        return f"{named(resource)}, onset {performed}"
    return f"{named(resource)}, " + (f"recorded {recorded}" if recorded else "undated")


def _not_of_child_bearing_potential(record: Resource, words: str) -> SafetyItem:
    """Information only: says which record switched the pregnancy check off, so that a
    clinician can see it and overrule it if the record is wrong."""
    return SafetyItem(
        id="pregnancy",
        kind=SafetyKind.PREGNANCY,
        severity=Severity.INFO,
        title="No pregnancy check: not of child-bearing potential",
        explanation=f"{words}: the policy takes it to end child-bearing potential, so no "
        "pregnancy status is asked for.",
        action="If this record is not the patient's or is wrong, confirm pregnancy status "
        "before the procedure.",
        evidence=(evidence(record, date=timing(record).start or recorded_date(record)),),
    )


def _result_words(observation: Resource) -> str | None:
    """The result as charted: "5000 m[IU]/mL", "see comment"."""
    quantity = observation.get("valueQuantity")
    if isinstance(quantity, Mapping):
        value = quantity.get("value")
        if isinstance(value, int | float) and not isinstance(value, bool):
            unit = quantity.get("unit") or quantity.get("code")
            return f"{number(value)} {unit}" if isinstance(unit, str) else number(value)
    texts = concept_texts(observation.get("valueCodeableConcept"))
    if isinstance(observation.get("valueString"), str):
        texts.append(observation["valueString"])
    return texts[0].strip() if texts else None


def _evidence(statement: _Statement) -> Evidence:
    value = statement.answer or _result_words(statement.resource) or "result not read"
    return evidence(statement.resource, date=statement.when, value=value)
