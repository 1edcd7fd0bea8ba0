"""Value sets of the candidacy policy: codes by system, and text terms for what has no code.

A concept matches by a coding whose system and code are listed. Otherwise its words (text
terms matched in `CodeableConcept.text` and `Coding.display`, case-insensitive, whole words, an
optional plural "s"/"es") decide — also when it is coded with a code the value set does not
list: the policy lists the codes of our cited sources, and a chart codes the same thing with
many others (a platelet count as LOINC 26515-7, a contrast allergy as the SNOMED CT substance).
Such a match is `Match.WORDS_UNLISTED_CODE`, weaker than the others: each use decides what it
may do (it may raise a safety item or make a criterion unknown, never by itself not met). The
one exception: a concept carrying a code the policy lists for something else (`known_codes`)
is that other thing — the policy's LOINC creatinine is not an eGFR because its name mentions
one. For conditions and medications our cited sources give no codes, so their value sets are
text terms alone (shared/clinical.md §5) and words are their designed match (`Match.WORDS`).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable, Iterator, Mapping
from enum import IntEnum
from functools import cached_property
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

from plugin.candidacy.elements import repeating
from plugin.terminology import PRODUCT_CODE_SYSTEMS, standard_codes, system_url

__all__ = [
    "GOVERNED_SYSTEMS",
    "CodeRef",
    "Match",
    "Term",
    "ValueSet",
    "Wording",
    "codings",
    "concept_texts",
    "listed_codes",
    "normalized_text",
    "terms_pattern",
    "value_sets_in",
]

_STRICT = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

#: Systems whose codes must come from mappings/standard-codes.json (or carry a cited source).
GOVERNED_SYSTEMS = ("loinc", "snomed", "cpt")

Term = Annotated[StrictStr, Field(min_length=2, max_length=200)]

# Hyphens, slashes and punctuation separate words the same way spaces do ("low-back pain"),
# and "disk" is the American spelling of "disc".
_SEPARATORS = re.compile(r"[\s\-‐–—/_,;:()\[\]\"'.]+")
_DISK = re.compile(r"disk")


def normalized_text(text: str) -> str:
    """Lower case, punctuation as spaces, "disk" spelled "disc": the form terms match in."""
    return " " + _SEPARATORS.sub(" ", _DISK.sub("disc", text.lower())).strip() + " "


def terms_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    """One compiled alternation of whole-word terms (longest first), or None when empty."""
    normalized = sorted({normalized_text(term).strip() for term in terms}, key=len, reverse=True)
    normalized = [term for term in normalized if term]
    if not normalized:
        return None
    alternation = "|".join(re.escape(term) for term in normalized)
    # Group 1 is the term as normalized, without the plural ending.
    return re.compile(rf"(?<![a-z0-9])({alternation})(?:s|es)?(?![a-z0-9])")


def codings(concept: Any) -> Iterator[Mapping[str, Any]]:
    """The codings of a CodeableConcept dict, skipping anything that is not an object (a
    `coding` that is not a list reads as none)."""
    if type(concept) is dict or isinstance(concept, Mapping):
        for coding in repeating(concept.get("coding")):
            if type(coding) is dict or isinstance(coding, Mapping):
                yield coding


def concept_texts(concept: Any) -> list[str]:
    """`text` and every `coding.display` of a CodeableConcept: what a person reads."""
    # Read for every record of a long chart: a JSON object skips the (slow) Mapping check.
    if type(concept) is not dict and not isinstance(concept, Mapping):
        return []
    text = concept.get("text")
    texts = [text] if isinstance(text, str) else []
    for coding in repeating(concept.get("coding")):
        if type(coding) is dict or isinstance(coding, Mapping):
            display = coding.get("display")
            if isinstance(display, str):
                texts.append(display)
    return texts


class CodeRef(BaseModel):
    """A code in a value set. `system` is a short key of mappings/standard-codes.json
    (``loinc``, ``snomed``, ``cpt``), the id of one of the product's own CodeSystems
    (``discography``) or a system URL; `source` names the policy citation of a code that is
    not in standard-codes.json."""

    model_config = _STRICT

    system: Annotated[StrictStr, Field(min_length=1, max_length=300)]
    code: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    source: Annotated[StrictStr, Field(min_length=1, max_length=64)] | None = None

    @field_validator("system")
    @classmethod
    def _known_system(cls, value: str) -> str:
        if value in GOVERNED_SYSTEMS or re.match(r"^(https?://|urn:)\S+$", value):
            return value
        if value in PRODUCT_CODE_SYSTEMS:
            return value
        try:
            system_url(value)
        except KeyError:
            raise ValueError(
                f"unknown system {value!r}: use a key of mappings/standard-codes.json "
                f"({', '.join(GOVERNED_SYSTEMS)}, …), a product CodeSystem id "
                f"({', '.join(PRODUCT_CODE_SYSTEMS)}) or a system URL"
            ) from None
        return value

    @property
    def url(self) -> str:
        if "://" in self.system or self.system.startswith("urn:"):
            return self.system
        if self.system in PRODUCT_CODE_SYSTEMS:
            return PRODUCT_CODE_SYSTEMS[self.system].url
        return system_url(self.system)

    @property
    def product_display(self) -> str | None:
        """The display of a code of the product's own CodeSystems; None for other codes, or
        a code the CodeSystem does not define."""
        for system in PRODUCT_CODE_SYSTEMS.values():
            if self.url == system.url:
                try:
                    return system.display(self.code)
                except KeyError:
                    return None
        return None

    @property
    def governed_key(self) -> str | None:
        """The standard-codes.json key when the code must come from there (or be cited)."""
        for key in GOVERNED_SYSTEMS:
            if self.system == key or self.url == system_url(key):
                return key
        return None

    def listed(self) -> bool:
        """Whether mappings/standard-codes.json lists this code."""
        key = self.governed_key
        return key is None or self.code in standard_codes(key)


class Wording(IntEnum):
    """What a text says about a value set's terms, once negation is read."""

    NONE = 0  # no term
    NEGATED = 1  # every term is negated ("non-infectious", "no severe stenosis")
    HEDGED = 2  # a term is affirmed, but the text also negates something: unsure
    AFFIRMED = 3  # a term is affirmed, and nothing in the text is negated


# Negation is read within a clause: punctuation that ends one ("Aseptic (non-infective)
# discitis" is three clauses) stops a cue governing the words after it.
_CLAUSE_BREAK = re.compile(r"[;,.:()\[\]]+")
_CUE = re.compile(r"(?<![a-z0-9])(?:non|no|not|without|negative for|ruled out)(?![a-z0-9])")
_RULED_OUT_AFTER = re.compile(r" (?:is |was |has been )?ruled out(?![a-z0-9])")
#: Words a cue may stand before the term it governs: "no severe stenosis", "no evidence of
#: infection", "no significant spinal stenosis".
_CUE_REACH_WORDS = 3


def _clause_wording(pattern: re.Pattern[str], clause: str) -> tuple[set[str], set[str], bool]:
    """(the terms affirmed, the terms negated, whether a cue governs no term) in one clause."""
    text = normalized_text(clause)
    cues = [(m.start(), m.end()) for m in _CUE.finditer(text)]
    used: set[int] = set()
    affirmed: set[str] = set()
    negated: set[str] = set()
    for found in pattern.finditer(text):
        governing = None
        for position, (_, end) in enumerate(cues):
            if end <= found.start() and len(text[end : found.start()].split()) <= _CUE_REACH_WORDS:
                governing = position
        if _RULED_OUT_AFTER.match(text, found.end()) is not None:
            governing = next(
                (i for i, (start, _) in enumerate(cues) if start >= found.end()), governing
            )
        if governing is None:
            affirmed.add(found.group(1))
        else:
            negated.add(found.group(1))
            used.add(governing)
    return affirmed, negated, len(used) < len(cues)


class Match(IntEnum):
    """How a concept matched a value set, strongest last."""

    WORDS_UNLISTED_CODE = 1  # words, though coded in a listed system with a code not listed
    WORDS = 2  # words, with no coding in a system the value set lists codes for
    CODE = 3  # a listed code


class ValueSet(BaseModel):
    """Codes and text terms that identify one kind of thing in the chart."""

    model_config = _STRICT

    codes: tuple[CodeRef, ...] = ()
    text: tuple[Term, ...] = ()

    @cached_property
    def code_keys(self) -> frozenset[tuple[str, str]]:
        """(system URL, code) of every listed code."""
        return frozenset((ref.url, ref.code) for ref in self.codes)

    @cached_property
    def coded_systems(self) -> frozenset[str]:
        """The systems the value set lists codes in."""
        return frozenset(ref.url for ref in self.codes)

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        return terms_pattern(self.text)

    @property
    def empty(self) -> bool:
        return not self.codes and not self.text

    def has_code(self, system: object, code: object) -> bool:
        # Only strings are codes; a list or an object in their place could not even be looked up.
        return type(system) is str and type(code) is str and (system, code) in self.code_keys

    def matches_text(self, *texts: str | None) -> bool:
        pattern = self._pattern
        if pattern is None:
            return False
        return any(text and pattern.search(normalized_text(text)) for text in texts)

    def wording(self, *texts: str | None) -> Wording:
        """Whether the texts affirm or negate the value set's terms. A cue (non-, no, not,
        without, negative for, ruled out) standing just before a term (or "ruled out" just
        after it) negates it; a cue in the text that negates none of the terms leaves the
        reading unsure (`HEDGED`), as does a term affirmed in one place and negated in
        another."""
        pattern = self._pattern
        if pattern is None:
            return Wording.NONE
        affirmed: set[str] = set()
        negated: set[str] = set()
        stray = False
        for text in texts:
            if not text:
                continue
            for clause in _CLAUSE_BREAK.split(text.lower()):
                yes, no, unclear = _clause_wording(pattern, clause)
                affirmed |= yes
                negated |= no
                stray = stray or unclear
        if affirmed:
            return Wording.HEDGED if stray or affirmed & negated else Wording.AFFIRMED
        return Wording.NEGATED if negated else Wording.NONE

    def match(
        self, concept: Any, known_codes: frozenset[tuple[str, str]] = frozenset()
    ) -> Match | None:
        """How the concept matches: by a listed code, else by its words (`Match.WORDS`, or
        `Match.WORDS_UNLISTED_CODE` when it is coded in a listed system); None when it does
        not, or when it carries one of `known_codes` — a code the policy lists for something
        else, which names what the concept is."""
        if self.matched_code(concept) is not None:
            return Match.CODE
        coded = False
        for coding in codings(concept):
            system, code = coding.get("system"), coding.get("code")
            if type(system) is not str:
                continue  # no system (or not a string): the code means nothing to a value set
            if type(code) is str and (system, code) in known_codes:
                return None
            coded = coded or system in self.coded_systems
        if not self.matches_text(*concept_texts(concept)):
            return None
        return Match.WORDS_UNLISTED_CODE if coded else Match.WORDS

    def match_any(
        self, concepts: Iterable[Any], known_codes: frozenset[tuple[str, str]] = frozenset()
    ) -> Match | None:
        """The strongest match among the concepts."""
        found = [m for c in concepts if (m := self.match(c, known_codes)) is not None]
        return max(found, default=None)

    def matches_concept(self, concept: Any) -> bool:
        """A coding with a listed code, or a term in the concept's text or displays."""
        return self.match(concept) is not None

    def matched_code(self, concept: Any) -> tuple[str, str] | None:
        """(system URL, code) of the first listed coding in the concept, if any."""
        for coding in codings(concept):
            system, code = coding.get("system"), coding.get("code")
            if type(system) is str and type(code) is str and (system, code) in self.code_keys:
                return (system, code)
        return None


def value_sets_in(value: Any) -> Iterator[ValueSet]:
    """Every value set inside a policy model (its fields, tuples and mappings, recursively)."""
    if isinstance(value, ValueSet):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from value_sets_in(getattr(value, name))
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from value_sets_in(item)
    elif isinstance(value, tuple | list):
        for item in value:
            yield from value_sets_in(item)


#: listed_codes per policy object (by identity; frozen models), dropped with the policy.
_LISTED: dict[int, tuple[weakref.ref[BaseModel], frozenset[tuple[str, str]]]] = {}


def listed_codes(policy: BaseModel) -> frozenset[tuple[str, str]]:
    """(system URL, code) of every code listed in any value set of a policy model. Read once
    per policy object — walking the policy's fields took most of a millisecond, per chart
    assessed: the model is frozen, and a changed copy (`model_copy`) is another object."""
    key = id(policy)
    cached = _LISTED.get(key)
    if cached is not None and cached[0]() is policy:
        return cached[1]
    codes = frozenset(code for vs in value_sets_in(policy) for code in vs.code_keys)

    def forget(ref: weakref.ref[BaseModel]) -> None:
        entry = _LISTED.get(key)
        if entry is not None and entry[0] is ref:  # not a later policy's, given the same id
            _LISTED.pop(key, None)

    _LISTED[key] = (weakref.ref(policy, forget), codes)
    return codes
