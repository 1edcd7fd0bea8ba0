"""Invariants (ElementDefinition.constraint) compiled once with fhirpathpy and evaluated on an
element of an instance, with ``%resource`` bound to the resource that holds it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from fhirpathpy import compile as compile_fhirpath
from fhirpathpy.engine.nodes import ResourceNode

from plugin.conformance.issues import Severity
from plugin.conformance.r4_model import R4_MODEL

__all__ = ["CompiledInvariant", "compile_invariant"]

# fhirpathpy leaves this one untyped: a node carries the element's type path, which FHIRPath
# needs to resolve choice elements (``value`` → ``valueQuantity``) below the resource root.
_typed_node = cast(Callable[[Any, str], Any], ResourceNode.create_node)


@dataclass(frozen=True, slots=True)
class CompiledInvariant:
    key: str
    severity: Severity
    human: str
    expression: str
    _evaluate: Callable[..., list[Any]]

    def holds(self, value: Any, type_path: str, resource: Mapping[str, Any]) -> bool | None:
        """Whether the invariant holds on `value`, an element of `resource` whose FHIR type
        (or backbone path) is `type_path`. Only an explicit ``false`` breaks it, as in the
        specification; an empty result does not. None when the expression cannot be
        evaluated on this data (malformed content the structural checks report)."""
        context: Any = value if value is resource else _typed_node(value, type_path)
        try:
            result = self._evaluate(context, {"resource": resource, "rootResource": resource})
        except Exception:  # fhirpathpy raises arbitrary errors on data of the wrong shape
            return None
        return result != [False]


def compile_invariant(constraint: Mapping[str, Any]) -> CompiledInvariant:
    """Compile a constraint; raises ValueError when its FHIRPath does not parse."""
    expression = str(constraint["expression"])
    try:
        evaluate = compile_fhirpath(expression, R4_MODEL)
    except Exception as exc:  # fhirpathpy raises bare Exceptions on syntax errors
        raise ValueError(f"invariant {constraint['key']}: cannot parse {expression!r}") from exc
    return CompiledInvariant(
        key=str(constraint["key"]),
        severity=Severity(constraint.get("severity", "error")),
        human=str(constraint["human"]),
        expression=expression,
        _evaluate=evaluate,
    )
