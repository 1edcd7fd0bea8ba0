"""The shape of a draft ServiceRequest, as far as the service reads it: FHIR JSON datatypes of
the elements that decide whether it is a discography order and what it orders (`code`,
`bodySite`, `subject`, `id`) and of the extensions the systemAction rewrites.

The order reader (`plugin.candidacy.order`) and the systemAction take these shapes for granted;
a draft that breaks them is a malformed call (400), each problem named from the draft's place
in the request, never guessed around: a discography order silently passed over at order-sign
would get no card at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugin.cds_hooks.extension import extension_problems
from plugin.errors import Problem

__all__ = ["code_problems", "discography_draft_problems"]

_CODING_STRINGS = ("system", "code", "display")


def _string_problems(data: Mapping[str, Any], names: tuple[str, ...], path: str) -> list[Problem]:
    return [
        Problem(f"{path}.{name}", "type", "must be a string")
        for name in names
        if name in data and not isinstance(data[name], str)
    ]


def _concept_problems(concept: Any, path: str) -> list[Problem]:
    """A CodeableConcept: an object, `text` a string, `coding` an array of Coding objects."""
    if not isinstance(concept, Mapping):
        return [Problem(path, "type", "must be a CodeableConcept object")]
    problems = _string_problems(concept, ("text",), path)
    if "coding" not in concept:
        return problems
    codings = concept["coding"]
    if not isinstance(codings, list):
        return [*problems, Problem(f"{path}.coding", "type", "must be an array of Codings")]
    for index, coding in enumerate(codings):
        where = f"{path}.coding[{index}]"
        if not isinstance(coding, Mapping):
            problems.append(Problem(where, "type", "must be a Coding object"))
        else:
            problems += _string_problems(coding, _CODING_STRINGS, where)
    return problems


def code_problems(draft: Mapping[str, Any], path: str) -> list[Problem]:
    """What in a ServiceRequest's `code` could not be read to tell a discography order."""
    return _concept_problems(draft["code"], f"{path}.code") if "code" in draft else []


def discography_draft_problems(draft: Mapping[str, Any], path: str) -> list[Problem]:
    """What else in a discography draft could not be read: its id, subject, body sites and
    extensions."""
    problems = _string_problems(draft, ("id",), path)
    if "subject" in draft:
        subject = draft["subject"]
        if not isinstance(subject, Mapping):
            problems.append(Problem(f"{path}.subject", "type", "must be a Reference object"))
        else:
            problems += _string_problems(subject, ("reference",), f"{path}.subject")
    if "bodySite" in draft:
        sites = draft["bodySite"]
        if not isinstance(sites, list):
            problems.append(
                Problem(f"{path}.bodySite", "type", "must be an array of CodeableConcepts")
            )
        else:
            for index, site in enumerate(sites):
                problems += _concept_problems(site, f"{path}.bodySite[{index}]")
    return problems + extension_problems(draft, path)
