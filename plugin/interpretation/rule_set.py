"""Interpretation rule sets: the versioned data files under ``mappings/rule-sets/``.

A rule set names the generic algorithm it configures (`method`), the levels it is the default
for (`applies_to`), every threshold with its comparison, and the sources behind them. The
Python interpreting a study knows the algorithms, never the numbers.

The library holds the shipped rule sets plus any a site loads: a site file with the id of a
shipped rule set replaces it; a new id adds a rule set.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from plugin.data_files import read_json_file
from plugin.errors import ConfigurationError, InputProblemError, Problem, RuleSetInvalidError
from plugin.interpretation.results import RuleSetRef
from plugin.interpretation.thresholds import (
    GradeThreshold,
    IntensityThreshold,
    PressureBand,
    PressureThreshold,
    VolumeThreshold,
    band_sequence_problem,
)
from plugin.resources import mappings_dir
from plugin.study.levels import DISC_LEVELS, Region, is_disc_level, region_of

__all__ = [
    "AppliesTo",
    "Citation",
    "ControlScope",
    "ManometricRuleSet",
    "ManometricThresholds",
    "Method",
    "ReviewNote",
    "RuleSet",
    "RuleSetLibrary",
    "TriangulationRuleSet",
    "TriangulationThresholds",
    "default_rule_sets",
    "load_rule_set",
    "parse_rule_set",
    "rule_sets_dir",
]

_STRICT = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False)

Text = Annotated[StrictStr, Field(min_length=1, max_length=4000)]
Identifier = Annotated[
    StrictStr, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9\-.]*$")
]
SemVer = Annotated[
    StrictStr,
    Field(pattern=r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.\-]+)?(?:\+[0-9A-Za-z.\-]+)?$"),
]


class Method(StrEnum):
    """The generic algorithms a rule set can configure (shared/clinical.md §2a, §2b)."""

    MANOMETRIC_ADJACENT_CONTROL = "manometric-adjacent-control"
    TRIANGULATION = "triangulation"


class ControlScope(StrEnum):
    """Which other levels may serve as the painless control in triangulation."""

    SAME_REGION = "same-region"  # a cervical target needs a cervical control
    STUDY = "study"  # any other completed level of the study


class AppliesTo(BaseModel):
    """The levels a rule set is the default for: whole regions, plus or minus single levels."""

    model_config = _STRICT

    regions: tuple[Region, ...] = ()
    levels: tuple[StrictStr, ...] = ()
    exclude_levels: tuple[StrictStr, ...] = ()

    @field_validator("levels", "exclude_levels")
    @classmethod
    def _known_levels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [level for level in value if not is_disc_level(level)]
        if unknown:
            raise ValueError(
                f"unknown disc level(s) {', '.join(map(repr, unknown))}; expected levels such as "
                f"'L4-L5' ({DISC_LEVELS[0]} … {DISC_LEVELS[-1]})"
            )
        return value

    @model_validator(mode="after")
    def _no_level_both_in_and_out(self) -> AppliesTo:
        both = sorted(set(self.levels) & set(self.exclude_levels))
        if both:
            raise ValueError(f"{', '.join(both)} both included and excluded")
        return self

    def specificity(self, level: str) -> int:
        """0 when the rule set does not apply; 1 by its region; 2 named explicitly."""
        if level in self.exclude_levels:
            return 0
        if level in self.levels:
            return 2
        return 1 if region_of(level) in self.regions else 0


class Citation(BaseModel):
    model_config = _STRICT

    id: Identifier
    text: Text
    url: Annotated[StrictStr, Field(pattern=r"^https?://\S+$")] | None = None
    verified: StrictBool  # seen in the source (✔) or still to verify (◌)
    supports: tuple[Text, ...] = ()  # what the source backs, e.g. "thresholds.pain_intensity"


class ReviewNote(BaseModel):
    """An item flagged for clinical review: a default whose source is not yet confirmed, or a
    product decision a clinician should confirm."""

    model_config = _STRICT

    subject: Text  # "thresholds.onset_volume_ml", "control_scope", …
    note: Text
    citation: Identifier | None = None


def _check_bands(bands: tuple[PressureBand, ...]) -> tuple[PressureBand, ...]:
    problem = band_sequence_problem(bands)
    if problem is not None:
        raise ValueError(problem)
    return bands


#: Pressure-sensitivity bands, low to high, covering every ΔP exactly once.
PressureBands = Annotated[tuple[PressureBand, ...], AfterValidator(_check_bands)]


class ManometricThresholds(BaseModel):
    """Numbers of the manometric adjacent-control method (shared/clinical.md §2a)."""

    model_config = _STRICT

    pain_intensity: IntensityThreshold  # high-intensity concordant pain
    positive_delta_p_psi: PressureThreshold  # a positive response is provoked at low ΔP
    definite_delta_p_psi: PressureThreshold  # ΔP for definite / highly probable vs probable
    onset_volume_ml: VolumeThreshold
    control_pain_intensity: IntensityThreshold  # a painless control disc
    control_discordant_delta_p_psi: PressureThreshold  # non-concordant pain only above this ΔP
    pressure_sensitivity: PressureBands = ()


class TriangulationThresholds(BaseModel):
    """Numbers of the triangulation method (shared/clinical.md §2b)."""

    model_config = _STRICT

    pain_intensity: IntensityThreshold
    positive_delta_p_psi: PressureThreshold  # judged only where pressures were recorded
    dallas_grade: GradeThreshold  # annular disruption
    control_pain_intensity: IntensityThreshold
    pressure_sensitivity: PressureBands = ()


class _RuleSetFile(BaseModel):
    """What every rule-set file carries, whatever its method."""

    model_config = _STRICT

    id: Identifier
    version: SemVer
    title: Text
    description: Text
    applies_to: AppliesTo = AppliesTo()
    thresholds: ManometricThresholds | TriangulationThresholds  # narrowed by each method
    citations: tuple[Citation, ...] = ()
    review_notes: tuple[ReviewNote, ...] = ()

    @property
    def ref(self) -> RuleSetRef:
        return RuleSetRef(id=self.id, version=self.version, title=self.title)

    @model_validator(mode="after")
    def _sources_hang_together(self) -> _RuleSetFile:
        ids = [citation.id for citation in self.citations]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"citation id(s) {', '.join(duplicates)} given more than once")
        unknown = sorted(
            {n.citation for n in self.review_notes if n.citation is not None} - set(ids)
        )
        if unknown:
            raise ValueError(f"review_notes cite unknown citation id(s) {', '.join(unknown)}")
        reviewed = {n.citation for n in self.review_notes}
        unflagged = [c.id for c in self.citations if not c.verified and c.id not in reviewed]
        if unflagged:
            # clinical.md: an unverified source must be flagged for clinical review.
            raise ValueError(
                f"unverified citation(s) {', '.join(unflagged)} need a review note citing them"
            )
        names = set(type(self.thresholds).model_fields)
        for note in self.review_notes:
            head, _, name = note.subject.partition(".")
            if head == "thresholds" and name.split(".")[0] not in names:
                raise ValueError(f"review note subject {note.subject!r} names no threshold")
        return self


class ManometricRuleSet(_RuleSetFile):
    method: Literal[Method.MANOMETRIC_ADJACENT_CONTROL]
    thresholds: ManometricThresholds

    @property
    def delta_p_limits(self) -> tuple[tuple[str, PressureThreshold], ...]:
        """The ΔP limits a level's category is judged on, by criterion id (clinical.md §2a)."""
        return (
            ("very-low-pressure", self.thresholds.definite_delta_p_psi),
            ("low-pressure", self.thresholds.positive_delta_p_psi),
        )

    #: The source accepts a discordant-pain control only "where only one adjacent disc can be
    #: tested"; the product definition (clinical.md §2a) accepts it always. True follows the
    #: source: a discordant control then counts only when one adjacent disc was tested.
    discordant_control_requires_single_adjacent: StrictBool = False


class TriangulationRuleSet(_RuleSetFile):
    method: Literal[Method.TRIANGULATION]
    thresholds: TriangulationThresholds

    @property
    def delta_p_limits(self) -> tuple[tuple[str, PressureThreshold], ...]:
        """The ΔP limits a level's category is judged on, by criterion id (clinical.md §2b)."""
        return (("low-pressure", self.thresholds.positive_delta_p_psi),)

    #: The shipped cervical-triangulation sets "study" (clinical.md §2b). The default for a file
    #: that omits the field stays "same-region" so a site file keeps the meaning it was written
    #: with (changing a rule set's meaning requires a new version of it).
    control_scope: ControlScope = ControlScope.SAME_REGION


RuleSet: TypeAlias = ManometricRuleSet | TriangulationRuleSet

_ADAPTER: TypeAdapter[RuleSet] = TypeAdapter(
    Annotated[ManometricRuleSet | TriangulationRuleSet, Field(discriminator="method")]
)


def parse_rule_set(data: Any) -> RuleSet:
    """Validate a decoded rule-set document; `RuleSetInvalidError` lists every problem."""
    if not isinstance(data, dict):
        raise RuleSetInvalidError([Problem("", "type", "a rule set must be a JSON object")])
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise RuleSetInvalidError(_problems(exc)) from None


def load_rule_set(path: Path | str) -> RuleSet:
    """Read and validate one rule-set file. Problems name the field within the file; an
    unreadable or non-JSON file is one problem naming the file."""
    return parse_rule_set(read_json_file(path, what="rule-set file", error=RuleSetInvalidError))


_MESSAGES = {
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "tuple_type": "must be a list",
    "model_type": "must be an object",
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "string_too_short": "must not be empty",
    "union_tag_not_found": f"is required: one of {', '.join(repr(m.value) for m in Method)}",
    "union_tag_invalid": f"must be one of {', '.join(repr(m.value) for m in Method)}",
    "literal_error": f"must be one of {', '.join(repr(m.value) for m in Method)}",
}


_IDENTIFIER_RULE = "must be lower-case letters, digits, '-' or '.', starting with a letter or digit"
_PATTERN_MESSAGES = {
    "version": 'must be a semantic version such as "1.0.0" or "1.1.0-site"',
    "id": _IDENTIFIER_RULE,
    "citation": _IDENTIFIER_RULE,
    "url": "must be an http(s) URL",
}


def _problems(exc: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    methods = {m.value for m in Method}
    for error in exc.errors(include_url=False):
        # The discriminated union puts the method name first in the location; it is not a field.
        loc = [part for i, part in enumerate(error["loc"]) if not (i == 0 and part in methods)]
        kind = error["type"]
        if kind in ("union_tag_not_found", "union_tag_invalid"):
            loc = ["method"]
        field = "".join(
            f"[{part}]" if isinstance(part, int) else (f".{part}" if i else str(part))
            for i, part in enumerate(loc)
        )
        ctx = error.get("ctx") or {}
        if kind in ("greater_than_equal", "less_than_equal"):
            limit = ctx.get("ge", ctx.get("le"))
            shown = f"{limit:g}" if isinstance(limit, int | float) else str(limit)
            bound = f"at least {shown}" if "ge" in ctx else f"at most {shown}"
            message, kind = f"must be {bound}", "range"
        elif kind == "enum":
            message = f"must be one of {ctx.get('expected', '')}"
        elif kind == "string_pattern_mismatch":
            name = next((part for part in reversed(loc) if isinstance(part, str)), "")
            message = _PATTERN_MESSAGES.get(name, f"does not match {ctx.get('pattern')}")
        elif kind == "value_error":
            message = str(ctx.get("error", error["msg"]))
        else:
            message = _MESSAGES.get(kind, error["msg"])
        got = error.get("input")
        if kind not in ("missing", "extra_forbidden", "value_error") and isinstance(
            got, str | int | float | bool
        ):
            message += f" (got {json.dumps(got)})"
        problems.append(Problem(field, kind, message))
    return list(dict.fromkeys(problems))


@dataclass(frozen=True, slots=True)
class RuleSetLibrary:
    """The rule sets available to interpretation, in load order (shipped first, then site)."""

    rule_sets: tuple[RuleSet, ...] = ()

    def __post_init__(self) -> None:
        ids = [rule_set.id for rule_set in self.rule_sets]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ConfigurationError(f"rule set id(s) {', '.join(duplicates)} loaded twice")

    def __iter__(self) -> Iterator[RuleSet]:
        return iter(self.rule_sets)

    def __len__(self) -> int:
        return len(self.rule_sets)

    def __contains__(self, rule_set_id: object) -> bool:
        return any(rule_set.id == rule_set_id for rule_set in self.rule_sets)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(rule_set.id for rule_set in self.rule_sets)

    def get(self, rule_set_id: str) -> RuleSet | None:
        return next((rs for rs in self.rule_sets if rs.id == rule_set_id), None)

    def with_rule_sets(self, rule_sets: Iterable[RuleSet]) -> RuleSetLibrary:
        """A new library: a rule set with a known id replaces it in place; a new id is added."""
        current = list(self.rule_sets)
        for rule_set in rule_sets:
            position = next((i for i, rs in enumerate(current) if rs.id == rule_set.id), None)
            if position is None:
                current.append(rule_set)
            else:
                current[position] = rule_set
        return RuleSetLibrary(tuple(current))

    def with_site_files(self, paths: Iterable[Path | str]) -> RuleSetLibrary:
        """Load a site's rule-set files over this library (see `with_rule_sets`).

        Problems name the file as well as the field (``site.json: thresholds.…``): a site may
        load several files.
        """
        loaded: list[RuleSet] = []
        for path in paths:
            try:
                loaded.append(load_rule_set(path))
            except RuleSetInvalidError as exc:
                raise RuleSetInvalidError([_in_file(Path(path), p) for p in exc.problems]) from None
        return self.with_rule_sets(loaded)

    def for_level(self, level: str) -> RuleSet:
        """The default rule set of a disc level.

        A rule set naming the level in `applies_to.levels` wins over one covering its region;
        between equals the later-loaded wins, so a site's rule set overrides a shipped one.
        """
        if not is_disc_level(level):
            raise InputProblemError(
                [Problem("level", "unknown-level", f"unknown disc level {level!r}")]
            )
        best: RuleSet | None = None
        best_rank = 0
        for rule_set in self.rule_sets:
            rank = rule_set.applies_to.specificity(level)
            if rank and rank >= best_rank:
                best, best_rank = rule_set, rank
        if best is None:
            raise ConfigurationError(
                f"no rule set applies to {level}; loaded: {', '.join(self.ids) or 'none'}"
            )
        return best


def _in_file(path: Path, problem: Problem) -> Problem:
    if not problem.field and str(path) in problem.message:
        return problem  # the message names the file already
    field = f"{path}: {problem.field}" if problem.field else str(path)
    return Problem(field, problem.rule, problem.message)


def rule_sets_dir() -> Path:
    return mappings_dir() / "rule-sets"


@cache
def default_rule_sets() -> RuleSetLibrary:
    """The shipped rule sets, loaded once per process."""
    folder = rule_sets_dir()
    if not folder.is_dir():
        raise ConfigurationError(f"the rule-set folder {folder} is missing")
    return RuleSetLibrary(tuple(load_rule_set(path) for path in sorted(folder.glob("*.json"))))
