"""Interpretation of a discography study with published, versioned rule sets."""

from plugin.interpretation.engine import criterion_ids, interpret_study
from plugin.interpretation.rule_set import (
    RuleSet,
    RuleSetLibrary,
    default_rule_sets,
    load_rule_set,
)

__all__ = [
    "RuleSet",
    "RuleSetLibrary",
    "criterion_ids",
    "default_rule_sets",
    "interpret_study",
    "load_rule_set",
]
