"""The product's exception tree. Edges map these to OperationOutcome, CDS Hooks errors,
HTML error pages or CLI exit codes; the core only raises them.

    DiscographyError
    ├── InputProblemError       – input that breaks a rule; carries every Problem found
    │   ├── StudyInvalidError   – a study that fails validation
    │   └── RuleSetInvalidError – a rule-set data file that fails validation
    └── ConfigurationError      – the product is configured inconsistently
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ConfigurationError",
    "DiscographyError",
    "InputProblemError",
    "Problem",
    "RuleSetInvalidError",
    "StudyInvalidError",
]


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken rule: `field` is a dotted path (``levels[2].pain_intensity``), `rule` a
    short machine-readable rule id, `message` the sentence a person reads."""

    field: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class DiscographyError(Exception):
    """Base of every error the product raises on purpose."""


class InputProblemError(DiscographyError):
    """Input broke one or more rules; `problems` lists all of them, not just the first."""

    def __init__(self, problems: list[Problem], what: str = "input") -> None:
        self.problems = problems
        super().__init__(f"{what} is invalid: " + "; ".join(str(p) for p in problems))


class StudyInvalidError(InputProblemError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems, "study")


class RuleSetInvalidError(InputProblemError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems, "rule set")


class ConfigurationError(DiscographyError):
    """The product's configuration is inconsistent (a missing file, an unknown rule set)."""
