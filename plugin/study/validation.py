"""Turns study JSON into a `Study`, or reports every broken rule at once.

Errors are rules a study cannot break (a pain intensity of 12, onset pressure below opening
pressure); warnings are values that are possible but worth a second look (a cervical disc
taking 2 mL). Each names the field (``levels[2].onset_pressure_psi``) and the rule.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, TypeAdapter, ValidationError

from plugin.errors import Problem, StudyInvalidError
from plugin.study.levels import DISC_LEVELS, Region, is_disc_level, normalize_level, region_of
from plugin.study.model import (
    CERVICAL_VOLUME_WARNING_ML,
    PEAK_PRESSURE_WARNING_PSI,
    ContrastLeak,
    Level,
    LevelRole,
    PainResponse,
    Study,
    TechnicalResult,
)

__all__ = [
    "CERVICAL_VOLUME_WARNING_ML",
    "EARLIEST_PERFORMED",
    "FULL_THICKNESS_DALLAS_GRADE",
    "LARGEST_UTC_OFFSET",
    "PEAK_PRESSURE_WARNING_PSI",
    "PERFORMED_CLOCK_SKEW",
    "ValidatedStudy",
    "parse_study",
    "performed_problems",
    "study_from_json",
]

#: Provocative discography was first described in 1948; an earlier date is a typo (1900 for 2000).
EARLIEST_PERFORMED = datetime(1950, 1, 1, tzinfo=UTC)
#: The browser's, the server's and the EHR's clocks differ a little: a time this far ahead of
#: "now" is still taken as now, anything later as a date typed wrong.
PERFORMED_CLOCK_SKEW = timedelta(minutes=5)
#: FHIR R4 dateTime allows time-zone offsets from -14:00 to +14:00 (the widest in use, UTC+14
#: in Kiribati); the procedure's time is written to the chart as one.
LARGEST_UTC_OFFSET = timedelta(hours=14)

#: Modified Dallas grade of a full-thickness annular tear with contrast leaking outside the
#: annulus (shared/clinical.md §3).
FULL_THICKNESS_DALLAS_GRADE = 5

_AWARE = TypeAdapter(AwareDatetime)


@dataclass(frozen=True, slots=True)
class ValidatedStudy:
    study: Study
    warnings: tuple[Problem, ...]


def study_from_json(text: str | bytes, *, now: datetime | None = None) -> ValidatedStudy:
    """Parse study JSON text; non-JSON is reported as a problem, never a traceback."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = (
            f" at line {exc.lineno} column {exc.colno}"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8 text"
        raise StudyInvalidError([Problem("", "json", f"not valid JSON{where}: {reason}")]) from None
    except RecursionError:
        # Arrays nested thousands deep: a study nests a handful of levels.
        raise StudyInvalidError(
            [Problem("", "nesting", "JSON nested far deeper than a study can be")]
        ) from None
    return parse_study(data, now=now)


def parse_study(data: Any, *, now: datetime | None = None) -> ValidatedStudy:
    """Validate a decoded study document. Raises `StudyInvalidError` listing every problem.

    `now` (the caller's clock: validation reads none) refuses a procedure performed later
    than now; without it only the earliest plausible date is checked."""
    if not isinstance(data, Mapping):
        raise StudyInvalidError(
            [Problem("", "type", f"a study must be a JSON object (got {_kind(data)})")]
        )
    document = dict(data)
    problems: list[Problem] = []
    raw_levels = document.get("levels")
    if isinstance(raw_levels, list):
        document["levels"] = [
            {**lv, "level": normalize_level(lv["level"])}
            if isinstance(lv, Mapping) and isinstance(lv.get("level"), str)
            else lv
            for lv in raw_levels
        ]
        if not raw_levels:
            problems.append(Problem("levels", "min-items", "at least one level is required"))
        problems.extend(_level_rules(document["levels"]))
    problems.extend(performed_problems(document.get("performed"), now=now))

    study: Study | None = None
    try:
        study = Study.model_validate(document)
    except ValidationError as exc:
        problems = _pydantic_problems(exc) + problems
    if problems or study is None:
        raise StudyInvalidError(_deduplicated(problems))
    return ValidatedStudy(study, tuple(_warnings(study)))


def performed_problems(performed: Any, *, now: datetime | None = None) -> list[Problem]:
    """The procedure's date-time against the calendar: a time-zone offset within
    `LARGEST_UTC_OFFSET`, not before `EARLIEST_PERFORMED`, and not later than `now` (give or
    take `PERFORMED_CLOCK_SKEW`). A value that is not a date-time with a time zone is left to
    the model's own message."""
    try:
        when = _AWARE.validate_python(performed)
    except ValidationError:
        return []
    offset = when.utcoffset()
    if offset is not None and abs(offset) > LARGEST_UTC_OFFSET:
        return [
            Problem(
                "performed",
                "utc-offset-range",
                f"the time-zone offset must be between -14:00 and +14:00, the range a FHIR R4 "
                f"dateTime allows (got {when.isoformat()}); check the time zone",
            )
        ]
    if when < EARLIEST_PERFORMED:
        return [
            Problem(
                "performed",
                "performed-too-early",
                f"must be on or after {EARLIEST_PERFORMED.date().isoformat()} "
                f"(got {when.isoformat()}); check the year",
            )
        ]
    if now is not None and when > now + PERFORMED_CLOCK_SKEW:
        # "Now" in the time zone the time was typed in, so the two read alike.
        local_now = now.astimezone(when.tzinfo).isoformat(timespec="minutes")
        return [
            Problem(
                "performed",
                "performed-in-future",
                f"cannot be later than now ({local_now}) (got {when.isoformat()}); "
                "check the date and the time zone",
            )
        ]
    return []


def _level_rules(levels: list[Any]) -> list[Problem]:
    """Rules across fields and levels, checked on whatever fields have the right type, so a
    wrong type in one field does not hide a broken rule in another."""
    problems: list[Problem] = []
    seen_levels: dict[str, int] = {}
    seen_orders: dict[int, int] = {}
    for index, raw in enumerate(levels):
        if not isinstance(raw, Mapping):
            continue
        where = f"levels[{index}]"
        name = raw.get("level")
        if isinstance(name, str):
            if not is_disc_level(name):
                problems.append(
                    Problem(
                        f"{where}.level",
                        "unknown-level",
                        f"unknown disc level {name!r}; expected one of "
                        f"{DISC_LEVELS[0]} … {DISC_LEVELS[-1]} such as 'L4-L5' or 'C5-C6'",
                    )
                )
            elif name in seen_levels:
                problems.append(
                    Problem(
                        f"{where}.level",
                        "duplicate-level",
                        f"{name} is given twice (also levels[{seen_levels[name]}])",
                    )
                )
            else:
                seen_levels[name] = index
        order = raw.get("order")
        if isinstance(order, int) and not isinstance(order, bool):
            if order in seen_orders:
                problems.append(
                    Problem(
                        f"{where}.order",
                        "duplicate-order",
                        f"injection order {order} is given twice "
                        f"(also levels[{seen_orders[order]}])",
                    )
                )
            else:
                seen_orders[order] = index
        problems.extend(_measurement_rules(where, raw))
    return problems


def _measurement_rules(where: str, raw: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    opening = _number(raw.get("opening_pressure_psi"))
    onset = _number(raw.get("onset_pressure_psi"))
    peak = _number(raw.get("peak_pressure_psi"))
    onset_volume = _number(raw.get("onset_volume_ml"))
    total_volume = _number(raw.get("total_volume_ml"))
    intensity = raw.get("pain_intensity") if _is_int(raw.get("pain_intensity")) else None
    response = raw.get("pain_response")
    completed = raw.get("technical_result", TechnicalResult.COMPLETED.value) == "completed"

    if opening is not None and onset is not None and onset < opening:
        problems.append(
            Problem(
                f"{where}.onset_pressure_psi",
                "onset-below-opening",
                f"pressure at pain onset ({onset:g} psi) cannot be below the opening pressure "
                f"({opening:g} psi)",
            )
        )
    for name, value in (("opening", opening), ("onset", onset)):
        if peak is not None and value is not None and peak < value:
            problems.append(
                Problem(
                    f"{where}.peak_pressure_psi",
                    f"peak-below-{name}",
                    f"peak pressure ({peak:g} psi) cannot be below the {name} pressure "
                    f"({value:g} psi)",
                )
            )
    if onset_volume is not None and total_volume is not None and onset_volume > total_volume:
        problems.append(
            Problem(
                f"{where}.onset_volume_ml",
                "onset-volume-above-total",
                f"volume at pain onset ({onset_volume:g} mL) cannot exceed the total volume "
                f"({total_volume:g} mL)",
            )
        )
    if intensity is not None and intensity > 0 and response == PainResponse.NONE.value:
        problems.append(
            Problem(
                f"{where}.pain_response",
                "pain-without-response",
                f"pain intensity is {intensity} but the response is 'none'; record "
                "'concordant' or 'discordant', or intensity 0",
            )
        )
    # Concordant and discordant both describe provoked pain (clinical.md §1: its quality and
    # place), so neither goes with intensity 0; a painless disc is 'none' at 0 — and only that
    # is read as a painless control.
    if intensity == 0 and response in (
        PainResponse.CONCORDANT.value,
        PainResponse.DISCORDANT.value,
    ):
        problems.append(
            Problem(
                f"{where}.pain_intensity",
                f"{response}-without-pain",
                f"a {response} response means pain was provoked, so it needs a pain intensity "
                "above 0; record response 'none' when no pain was provoked",
            )
        )
    no_pain = intensity == 0 or response == PainResponse.NONE.value
    if no_pain and onset is not None:
        problems.append(
            Problem(
                f"{where}.onset_pressure_psi",
                "onset-without-pain",
                "pressure at pain onset is recorded but no pain was provoked; leave it empty",
            )
        )
    if no_pain and onset_volume is not None:
        problems.append(
            Problem(
                f"{where}.onset_volume_ml",
                "onset-without-pain",
                "volume at pain onset is recorded but no pain was provoked; leave it empty",
            )
        )
    if completed:
        for field in ("pain_response", "pain_intensity"):
            if raw.get(field) is None:
                problems.append(
                    Problem(
                        f"{where}.{field}",
                        "required-when-completed",
                        "required for a completed level (record 'none' / 0 when no pain)",
                    )
                )
    return problems


def _warnings(study: Study) -> list[Problem]:
    warnings: list[Problem] = []
    for index, level in enumerate(study.levels):
        where = f"levels[{index}]"
        if region_of(level.level) is Region.CERVICAL:
            for field in ("onset_volume_ml", "total_volume_ml"):
                value = getattr(level, field)
                if value is not None and value > CERVICAL_VOLUME_WARNING_ML:
                    warnings.append(
                        Problem(
                            f"{where}.{field}",
                            "cervical-volume-high",
                            f"{value:g} mL is unusually large for a cervical disc (more than "
                            f"{CERVICAL_VOLUME_WARNING_ML:g} mL); please check",
                        )
                    )
        if (
            level.peak_pressure_psi is not None
            and level.peak_pressure_psi > PEAK_PRESSURE_WARNING_PSI
        ):
            warnings.append(
                Problem(
                    f"{where}.peak_pressure_psi",
                    "peak-pressure-high",
                    f"{level.peak_pressure_psi:g} psi is above {PEAK_PRESSURE_WARNING_PSI:g} psi; "
                    "please check",
                )
            )
        if not level.completed and _has_response_data(level):
            warnings.append(
                Problem(
                    f"{where}.technical_result",
                    "measurements-on-incomplete-level",
                    f"the level is {level.technical_result.value} but has pain or pressure "
                    "values; they are kept but the level is not assessable",
                )
            )
        if level.technical_result is TechnicalResult.ABORTED and level.abort_reason is None:
            warnings.append(
                Problem(
                    f"{where}.abort_reason", "abort-reason-missing", "say why the level was aborted"
                )
            )
        if level.dallas_grade == FULL_THICKNESS_DALLAS_GRADE and level.leak is ContrastLeak.NONE:
            # clinical.md §3: grade 5 is a full-thickness tear with contrast leaking outside the
            # annulus (◌ to verify, Schellhas 1996), so "no leak" contradicts it — a warning,
            # not an error, until that definition is confirmed.
            warnings.append(
                Problem(
                    f"{where}.leak",
                    "dallas-5-without-leak",
                    f"modified Dallas grade {FULL_THICKNESS_DALLAS_GRADE} is a full-thickness "
                    "tear with contrast leaking outside the annulus, but the leak is recorded "
                    "as 'none'; please check the grade and the leak",
                )
            )
        if level.order is None:
            warnings.append(
                Problem(
                    f"{where}.order", "order-missing", "the blinded injection order is not recorded"
                )
            )
    if not any(level.role is LevelRole.CONTROL for level in study.levels):
        warnings.append(
            Problem(
                "levels",
                "no-control-level",
                "no level is marked as a control; a positive result needs a valid control",
            )
        )
    return warnings


def _has_response_data(level: Level) -> bool:
    return any(
        value is not None
        for value in (
            level.pain_intensity,
            level.pain_response,
            level.onset_pressure_psi,
            level.onset_volume_ml,
        )
    )


_TYPE_MESSAGES = {
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "timezone_aware": "must include a time zone (e.g. 2026-03-01T09:30:00-05:00)",
    "string_too_short": "must not be empty",
    "finite_number": "must be a finite number",
}


def _pydantic_problems(exc: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        field = _path(error["loc"])
        kind = error["type"]
        got = error.get("input")
        ctx = error.get("ctx") or {}
        if kind == "enum":
            message = f"must be one of {ctx.get('expected', '')}"
        elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            limits = {
                "greater_than_equal": f"at least {ctx.get('ge')}",
                "less_than_equal": f"at most {ctx.get('le')}",
                "greater_than": f"above {ctx.get('gt')}",
                "less_than": f"below {ctx.get('lt')}",
            }
            message = f"must be {limits[kind]}"
            kind = "range"
        elif kind.startswith("datetime") or kind.startswith("date_"):
            message = "must be an ISO 8601 date-time with time zone (e.g. 2026-03-01T09:30:00Z)"
        elif kind == "string_pattern_mismatch":
            message = f"has characters that are not allowed (pattern {ctx.get('pattern')})"
        elif kind == "string_too_long":
            message = f"is too long (at most {ctx.get('max_length')} characters)"
        else:
            message = _TYPE_MESSAGES.get(kind, error["msg"])
        if kind not in ("missing", "extra_forbidden") and got is not None:
            message += f" (got {_shown(got)})"
        if error["type"] == "less_than_equal":
            message = _beyond_the_limit(field, ctx.get("le"), message)
        problems.append(Problem(field, kind, message))
    return problems


#: Why a measurement above its hard limit (`MANOMETER_LIMIT_PSI`, `INJECTED_VOLUME_LIMIT_ML`)
#: cannot be right, by the unit the field name ends with.
_LIMIT_REASONS = {
    "_psi": (
        "psi",
        "more than a discography manometer reads; check the number and that it is in psi "
        "(not kPa or mmHg)",
    ),
    "_ml": ("mL", "more than a disc takes; check the number and that it is in mL"),
}


def _beyond_the_limit(field: str, limit: Any, message: str) -> str:
    """``must be at most 500 psi (got 1e+308): more than a discography manometer reads; …``"""
    for suffix, (unit, reason) in _LIMIT_REASONS.items():
        if field.endswith(suffix) and isinstance(limit, int | float):
            got = message.partition(" (got ")[2]
            shown = f" (got {got}" if got else ""
            return f"must be at most {limit:g} {unit}{shown}: {reason}"
    return message


def _path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif "[" in item or item in ("function-before", "function-after"):
            continue  # pydantic's internal validator names are not field names
        else:
            parts.append(f".{item}" if parts else item)
    return "".join(parts)


def _shown(value: Any) -> str:
    text = (
        json.dumps(value, ensure_ascii=False, default=str)
        if not isinstance(value, str)
        else repr(value)
    )
    return text if len(text) <= 40 else text[:37] + "…"


def _kind(value: Any) -> str:
    return {
        list: "a list",
        str: "text",
        int: "a number",
        float: "a number",
        bool: "true/false",
    }.get(type(value), "null" if value is None else type(value).__name__)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> float | None:
    """A measurement to compare with others; None for a non-number, and for infinity or NaN,
    which the model refuses on their own (a rule comparing "inf psi" would say nothing)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # a whole number too large for a float: left to the model as well
        return None
    return number if math.isfinite(number) else None


def _deduplicated(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))
