"""FHIR search (R4 search.html) over stored resources, pure: parse the query, test a resource,
sort the matches.

Parameters repeated are ANDed, comma-separated values ORed. Supported: token (``system|code``,
``code``, ``|code``, ``system|``; modifiers ``:text``, ``:missing``), reference (``Patient/1``,
``1``, absolute; modifiers ``:Type``, ``:missing``), date (prefixes eq ne gt lt ge le sa eb),
string (starts with; ``:exact``, ``:contains``); `_count`, `_sort`, `_summary=count`.
An unknown parameter is an error unless the client asked for lenient handling.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from plugin.sandbox.fhir.date_ranges import (
    PREFIXES,
    DateRange,
    Prefix,
    date_range,
    period_range,
    range_matches,
)
from plugin.sandbox.fhir.outcome import FhirError, Issue
from plugin.sandbox.fhir.references import local_reference
from plugin.sandbox.fhir.search_parameters import (
    ParamType,
    SearchParameter,
    element_values,
    parameters_of,
)

__all__ = [
    "DEFAULT_COUNT",
    "MAX_COUNT",
    "Criterion",
    "SearchQuery",
    "matches",
    "parse_search",
    "sort_resources",
]

DEFAULT_COUNT = 50
MAX_COUNT = 1000
#: Parameters about the result rather than the resources; accepted and acted on (or ignored).
_RESULT_PARAMETERS = {"_count", "_sort", "_summary", "_total", "_format", "_pretty"}


@dataclass(frozen=True, slots=True)
class TokenValue:
    system: str | None  # None: any system; "": no system
    code: str | None  # None: any code in the system


@dataclass(frozen=True, slots=True)
class ReferenceValue:
    resource_type: str | None
    resource_id: str


@dataclass(frozen=True, slots=True)
class DateValue:
    prefix: Prefix
    range: DateRange


SearchValue = TokenValue | ReferenceValue | DateValue | str | bool


@dataclass(frozen=True, slots=True)
class Criterion:
    parameter: SearchParameter
    modifier: str | None
    alternatives: tuple[SearchValue, ...]  # ORed


@dataclass(frozen=True, slots=True)
class SearchQuery:
    resource_type: str
    criteria: tuple[Criterion, ...] = ()  # ANDed
    sort: tuple[tuple[SearchParameter, bool], ...] = ()  # (parameter, descending)
    count: int = DEFAULT_COUNT
    summary_count: bool = False
    ignored: tuple[str, ...] = field(default=())  # unknown parameters skipped (lenient)


def parse_search(
    resource_type: str,
    params: list[tuple[str, str]],
    fhir_base: str,
    *,
    lenient: bool = False,
) -> SearchQuery:
    """Parse query parameters. Raises `FhirError` 400 listing every bad parameter."""
    known = parameters_of(resource_type)
    problems: list[Issue] = []
    criteria: list[Criterion] = []
    sort: list[tuple[SearchParameter, bool]] = []
    count = DEFAULT_COUNT
    summary_count = False
    ignored: list[str] = []
    for raw_name, raw_value in params:
        name, _, modifier = raw_name.partition(":")
        if name in _RESULT_PARAMETERS:
            if name == "_count":
                count = _parse_count(raw_value, problems)
            elif name == "_sort":
                sort = _parse_sort(raw_value, known, problems)
            elif name == "_summary":
                if raw_value == "count":
                    summary_count = True
                elif raw_value != "false":
                    problems.append(_bad("_summary", "only _summary=count is supported"))
            continue
        parameter = known.get(name)
        if parameter is None:
            if lenient:
                ignored.append(raw_name)
            else:
                problems.append(
                    Issue(
                        "not-supported",
                        f"search parameter {raw_name!r} is not supported for {resource_type}",
                        (raw_name,),
                    )
                )
            continue
        try:
            criteria.append(_criterion(parameter, modifier or None, raw_value, fhir_base))
        except ValueError as exc:
            problems.append(_bad(raw_name, str(exc)))
    if problems:
        raise FhirError(400, problems)
    return SearchQuery(
        resource_type, tuple(criteria), tuple(sort), count, summary_count, tuple(ignored)
    )


def _bad(name: str, message: str) -> Issue:
    return Issue("invalid", f"search parameter {name}: {message}", (name,))


def _parse_count(value: str, problems: list[Issue]) -> int:
    if not (value.isascii() and value.isdigit()):  # "²" is a digit int() refuses
        problems.append(_bad("_count", f"must be a whole number (got {value!r})"))
        return DEFAULT_COUNT
    return max(0, min(int(value), MAX_COUNT))


def _parse_sort(
    value: str, known: dict[str, SearchParameter], problems: list[Issue]
) -> list[tuple[SearchParameter, bool]]:
    keys: list[tuple[SearchParameter, bool]] = []
    for item in value.split(","):
        descending = item.startswith("-")
        name = item.removeprefix("-")
        parameter = known.get(name)
        if parameter is None or parameter.type is ParamType.REFERENCE:
            problems.append(_bad("_sort", f"cannot sort by {name!r}"))
            continue
        keys.append((parameter, descending))
    return keys


def _criterion(
    parameter: SearchParameter, modifier: str | None, raw: str, fhir_base: str
) -> Criterion:
    if modifier == "missing":
        if raw not in ("true", "false"):
            raise ValueError("the :missing modifier takes true or false")
        return Criterion(parameter, modifier, (raw == "true",))
    alternatives = tuple(
        _value(parameter, modifier, part, fhir_base) for part in _split_commas(raw)
    )
    if not alternatives:
        raise ValueError("a value is required")
    return Criterion(parameter, modifier, alternatives)


def _split_commas(raw: str) -> list[str]:
    # "\," escapes a comma inside a value (FHIR search §Escaping).
    parts: list[str] = []
    current = ""
    escaped = False
    for char in raw:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p for p in parts if p != ""]


def _value(parameter: SearchParameter, modifier: str | None, raw: str, base: str) -> SearchValue:
    kind = parameter.type
    if kind is ParamType.TOKEN:
        if modifier == "text":
            return _fold(raw)
        if modifier is not None:
            raise ValueError(f"modifier :{modifier} is not supported on token parameters")
        if "|" not in raw:
            return TokenValue(None, raw)
        system, _, code = raw.partition("|")
        return TokenValue(system, code or None)
    if kind is ParamType.REFERENCE:
        return _reference_value(parameter, modifier, raw, base)
    if kind is ParamType.DATE:
        if modifier is not None:
            raise ValueError(f"modifier :{modifier} is not supported on date parameters")
        prefix: Prefix = "eq"
        text = raw
        if raw[:2] in PREFIXES:
            prefix, text = raw[:2], raw[2:]  # type: ignore[assignment]
        elif raw[:2].isalpha():
            raise ValueError(
                f"prefix {raw[:2]!r} is not supported (use one of {', '.join(PREFIXES)})"
            )
        return DateValue(prefix, date_range(text))
    if modifier not in (None, "exact", "contains"):
        raise ValueError(f"modifier :{modifier} is not supported on string parameters")
    return raw if modifier == "exact" else _fold(raw)


def _reference_value(
    parameter: SearchParameter, modifier: str | None, raw: str, base: str
) -> ReferenceValue:
    local = local_reference(raw, base)
    resource_type: str | None
    if local is not None:
        resource_type, resource_id = local
        if modifier is not None and modifier != resource_type:
            raise ValueError(f"{raw!r} is not a {modifier}")
    else:
        if "/" in raw:
            raise ValueError(f"{raw!r} is not a reference to a resource on this server")
        resource_type = modifier or (parameter.targets[0] if parameter.targets else None)
        resource_id = raw
    if parameter.targets and resource_type not in parameter.targets:
        raise ValueError(f"must refer to a {' or '.join(parameter.targets)}")
    return ReferenceValue(resource_type, resource_id)


def _fold(text: str) -> str:
    """Case- and accent-insensitive form for string matching."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


# -- matching -------------------------------------------------------------------------


def matches(
    query: SearchQuery,
    resource: dict[str, Any],
    fhir_base: str,
    memo: dict[Any, Any] | None = None,
) -> bool:
    """Whether `resource` meets every criterion. `memo` (one per stored version, see
    `StoredResource.search_values`) keeps what was read from the resource for next time: a
    search tests thousands of a patient's records, and the next search the same ones."""
    if memo is None:
        memo = {}
    return all(_criterion_holds(c, resource, fhir_base, memo) for c in query.criteria)


def _values(parameter: SearchParameter, resource: dict[str, Any]) -> list[Any]:
    found: list[Any] = []
    for path in parameter.paths:
        found.extend(element_values(resource, path))
    return found


@dataclass(frozen=True, slots=True)
class _Tokens:
    """A resource's codes for one token parameter, as sets to look up."""

    pairs: frozenset[tuple[str, str]]
    codes: frozenset[str]
    systems: frozenset[str]

    def match(self, wanted: TokenValue) -> bool:
        if wanted.system is None:
            return bool(self.pairs) if wanted.code is None else wanted.code in self.codes
        if wanted.code is None:
            return wanted.system in self.systems
        return (wanted.system, wanted.code) in self.pairs


def _memo(memo: dict[Any, Any], key: tuple[Any, ...], make: Any) -> Any:
    found = memo.get(key)
    if found is None:
        found = memo[key] = make()
    return found


def _criterion_holds(
    criterion: Criterion, resource: dict[str, Any], base: str, memo: dict[Any, Any]
) -> bool:
    parameter = criterion.parameter
    name = parameter.name  # one resource type per memo: the name is the parameter
    values: list[Any] = _memo(memo, (name,), lambda: _values(parameter, resource))
    if criterion.modifier == "missing":
        return (not values) == criterion.alternatives[0]
    if parameter.type is ParamType.TOKEN and criterion.modifier != "text":
        tokens: _Tokens = _memo(memo, (name, "tokens"), lambda: _tokens_of(values))
        return any(
            isinstance(wanted, TokenValue) and tokens.match(wanted)
            for wanted in criterion.alternatives
        )
    if parameter.type is ParamType.REFERENCE:
        targets: frozenset[tuple[str, str]] = _memo(
            memo, (name, "references", base), lambda: _local_targets(values, base)
        )
        return any(_refers_to(wanted, targets) for wanted in criterion.alternatives)
    if parameter.type is ParamType.DATE:
        ranges: tuple[DateRange, ...] = _memo(memo, (name, "ranges"), lambda: _ranges_of(values))
        return any(
            isinstance(wanted, DateValue) and range_matches(wanted.prefix, wanted.range, target)
            for wanted in criterion.alternatives
            for target in ranges
        )
    return any(
        _value_matches(criterion, alternative, value, base)
        for alternative in criterion.alternatives
        for value in values
    )


def _tokens_of(values: list[Any]) -> _Tokens:
    pairs = frozenset(pair for value in values for pair in _token_pairs(value))
    return _Tokens(
        pairs, frozenset(code for _, code in pairs), frozenset(system for system, _ in pairs)
    )


def _local_targets(values: list[Any], base: str) -> frozenset[tuple[str, str]]:
    targets: set[tuple[str, str]] = set()
    for value in values:
        if isinstance(value, dict) and isinstance(value.get("reference"), str):
            local = local_reference(value["reference"], base)
            if local is not None:
                targets.add((local[0], local[1]))
    return frozenset(targets)


def _refers_to(wanted: SearchValue, targets: frozenset[tuple[str, str]]) -> bool:
    if not isinstance(wanted, ReferenceValue):
        return False
    if wanted.resource_type is not None:
        return (wanted.resource_type, wanted.resource_id) in targets
    return any(target_id == wanted.resource_id for _, target_id in targets)


def _ranges_of(values: list[Any]) -> tuple[DateRange, ...]:
    return tuple(found for value in values if (found := _as_range(value)) is not None)


def _value_matches(criterion: Criterion, wanted: SearchValue, value: Any, base: str) -> bool:
    kind = criterion.parameter.type
    if kind is ParamType.TOKEN:
        if isinstance(wanted, str):
            return any(text.startswith(wanted) for text in _token_texts(value))
        assert isinstance(wanted, TokenValue)
        return any(_token_matches(wanted, system, code) for system, code in _token_pairs(value))
    if kind is ParamType.REFERENCE:
        assert isinstance(wanted, ReferenceValue)
        if not isinstance(value, dict) or not isinstance(value.get("reference"), str):
            return False
        local = local_reference(value["reference"], base)
        return (
            local is not None
            and local[1] == wanted.resource_id
            and (wanted.resource_type is None or local[0] == wanted.resource_type)
        )
    if kind is ParamType.DATE:
        assert isinstance(wanted, DateValue)
        target = _as_range(value)
        return target is not None and range_matches(wanted.prefix, wanted.range, target)
    assert isinstance(wanted, str)
    texts = _strings(value)
    if criterion.modifier == "exact":
        return wanted in texts
    folded = [_fold(t) for t in texts]
    if criterion.modifier == "contains":
        return any(wanted in t for t in folded)
    return any(t.startswith(wanted) for t in folded)


def _token_pairs(value: Any) -> list[tuple[str, str]]:
    """(system, code) pairs of a code, Coding, CodeableConcept, Identifier or boolean;
    an absent system is ""."""
    if isinstance(value, bool):
        return [("", "true" if value else "false")]
    if isinstance(value, str):
        return [("", value)]
    if not isinstance(value, dict):
        return []
    if "coding" in value or ("text" in value and "code" not in value and "value" not in value):
        pairs: list[tuple[str, str]] = []
        for coding in value.get("coding", []):
            pairs.extend(_token_pairs(coding))
        return pairs
    if "code" in value:
        return [(str(value.get("system", "")), str(value["code"]))]
    if "value" in value:
        return [(str(value.get("system", "")), str(value["value"]))]
    return []


def _token_matches(wanted: TokenValue, system: str, code: str) -> bool:
    if wanted.system is not None and wanted.system != system:
        return False
    return wanted.code is None or wanted.code == code


def _token_texts(value: Any) -> list[str]:
    if not isinstance(value, dict):
        return []
    texts = [value.get("text"), value.get("display")]
    texts += [coding.get("display") for coding in value.get("coding", [])]
    return [_fold(t) for t in texts if isinstance(t, str)]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):  # HumanName, Address: every string part
        found: list[str] = []
        for key, part in value.items():
            if key in ("text", "family", "given", "prefix", "suffix", "line", "city", "state"):
                found.extend(
                    p for p in (part if isinstance(part, list) else [part]) if isinstance(p, str)
                )
        return found
    return []


def _as_range(value: Any) -> DateRange | None:
    try:
        if isinstance(value, str):
            return date_range(value)
        if isinstance(value, dict) and ("start" in value or "end" in value):
            return period_range(value)
    except ValueError:
        return None
    return None


# -- sorting --------------------------------------------------------------------------


def sort_resources(query: SearchQuery, resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Resources in the order `_sort` asks for; missing values last; then by last update
    and id so the order is stable."""
    ordered = sorted(
        resources,
        key=lambda r: (str(r.get("meta", {}).get("lastUpdated", "")), str(r.get("id", ""))),
    )
    for parameter, descending in reversed(query.sort):
        present = [(key, r) for r in ordered if (key := _sort_key(parameter, r)) is not None]
        missing = [r for r in ordered if _sort_key(parameter, r) is None]
        present.sort(key=lambda pair: pair[0], reverse=descending)
        ordered = [r for _, r in present] + missing
    return ordered


def _sort_key(parameter: SearchParameter, resource: dict[str, Any]) -> Any:
    values = _values(parameter, resource)
    if parameter.type is ParamType.DATE:
        ranges = [r for r in (_as_range(v) for v in values) if r is not None]
        return min(r.start for r in ranges) if ranges else None
    texts = [t for v in values for t in (_strings(v) or [code for _, code in _token_pairs(v)])]
    return min(_fold(t) for t in texts) if texts else None
