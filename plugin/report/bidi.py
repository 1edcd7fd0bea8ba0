"""Right-to-left text (Arabic, Hebrew) prepared for the PDF, which draws glyphs left to right
one by one: letters put in visual order and Arabic letters in their joining forms.

reportlab can do this only with the optional `rlbidi` and `uharfbuzz` packages; this covers
the case a report meets — right-to-left words and numbers inside a left-to-right paragraph
(Unicode bidi rules W1–W7, N1 and I1 for an LTR paragraph, without explicit embeddings).
Arabic joining forms come from Unicode's own presentation-form decompositions
(`unicodedata`), so no table is kept here. The logical text is unchanged elsewhere (HTML,
plain text); PDF text extraction maps the presentation forms back (NFKC).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import cache

__all__ = ["has_right_to_left", "visual_order"]

_RTL = {"R", "AL"}
_NUMBER = {"EN", "AN"}
_NUMBER_GLUE = {"ES", "ET", "CS"}  # "1.5", "+3", "12%" stay one number
_MIRRORED = dict(zip("()[]{}<>«»", ")(][}{><»«", strict=True))
_FORMS = ("isolated", "final", "initial", "medial")
_LAM = "\u0644"
_ALEFS = frozenset("\u0622\u0623\u0625\u0627")
_CLOSING = {")": "(", "]": "[", "}": "{", "»": "«"}
_TATWEEL = "\u0640"


def has_right_to_left(text: str) -> bool:
    return any(unicodedata.bidirectional(char) in _RTL for char in text)


@cache
def _presentation_forms() -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """Joining forms per Arabic letter, and the lam–alef ligatures per alef, read from the
    decompositions of Arabic Presentation Forms-A and -B."""
    letters: dict[str, dict[str, str]] = {}
    lam_alef: dict[str, dict[str, str]] = {}
    for code in (*range(0xFB50, 0xFE00), *range(0xFE70, 0xFF00)):
        char = chr(code)
        tag, _, rest = unicodedata.decomposition(char).partition(" ")
        form = tag.strip("<>")
        if form not in _FORMS or not rest:
            continue
        base = "".join(chr(int(part, 16)) for part in rest.split())
        if len(base) == 1:
            letters.setdefault(base, {}).setdefault(form, char)
        elif len(base) == 2 and base[0] == _LAM and base[1] in _ALEFS:
            lam_alef.setdefault(base[1], {}).setdefault(form, char)
    return letters, lam_alef


def _transparent(char: str) -> bool:
    return unicodedata.category(char) in ("Mn", "Me")


def _joins_forward(char: str) -> bool:
    """Dual-joining letters (and tatweel) connect to the letter after them."""
    if char == _TATWEEL:
        return True
    forms = _presentation_forms()[0].get(char, {})
    return "initial" in forms or "medial" in forms


def _joins_backward(char: str) -> bool:
    return char == _TATWEEL or "final" in _presentation_forms()[0].get(char, {})


def _neighbour(text: str, index: int, step: int) -> str | None:
    index += step
    while 0 <= index < len(text):
        if not _transparent(text[index]):
            return text[index]
        index += step
    return None


def _shape_arabic(text: str, covered: Callable[[str], bool]) -> str:
    letters, lam_alef = _presentation_forms()
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        before = _neighbour(text, index, -1)
        joined_before = before is not None and _joins_forward(before) and _joins_backward(char)
        following = text[index + 1] if index + 1 < len(text) else None
        if char == _LAM and following in lam_alef:
            ligature = lam_alef[following].get("final" if joined_before else "isolated")
            if ligature and covered(ligature):
                out.append(ligature)
                index += 2
                continue
        forms = letters.get(char)
        if forms:
            after = _neighbour(text, index, 1)
            joined_after = after is not None and _joins_forward(char) and _joins_backward(after)
            form = {
                (True, True): "medial",
                (True, False): "final",
                (False, True): "initial",
                (False, False): "isolated",
            }[(joined_before, joined_after)]
            shaped = forms.get(form) or forms.get("isolated")
            out.append(shaped if shaped and covered(shaped) else char)
        else:
            out.append(char)
        index += 1
    return "".join(out)


def _classes(text: str) -> list[str]:
    """Each character's resolved class: R, N (number), L, or neutral ("")."""
    classes: list[str] = []
    previous = "L"
    for char in text:
        raw = unicodedata.bidirectional(char)
        if raw == "NSM" or _transparent(char):
            kind = previous
        elif raw in _RTL:
            kind = "R"
        elif raw in _NUMBER:
            kind = "N"
        elif raw == "L":
            kind = "L"
        else:
            kind = ""
        classes.append(kind)
        if kind:
            previous = kind
    # W7: a number after left-to-right text (or at the start) is left-to-right.
    strong = "L"
    for i, kind in enumerate(classes):
        if kind in ("L", "R"):
            strong = kind
        elif kind == "N" and strong == "L":
            classes[i] = "L"
    return classes


def _clusters(text: str) -> list[str]:
    clusters: list[str] = []
    for char in text:
        if clusters and _transparent(char):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def _reverse_run(run: str) -> str:
    """A right-to-left run in visual order: clusters reversed, numbers kept left to right,
    brackets mirrored."""
    pieces: list[str] = []
    number = ""
    for cluster in _clusters(run):
        kind = unicodedata.bidirectional(cluster[0])
        if kind in _NUMBER or (number and kind in _NUMBER_GLUE):
            number += cluster
            continue
        if number:
            pieces.append(number)
            number = ""
        pieces.append(_MIRRORED.get(cluster, cluster))
    if number:
        pieces.append(number)
    return "".join(reversed(pieces))


def _with_closing_brackets(text: str, start: int, end: int) -> int:
    """Extends a run over closing brackets whose opening bracket is inside it (rule N0)."""
    while end + 1 < len(text) and text[end + 1] in _CLOSING:
        closing = text[end + 1]
        run = text[start : end + 1]
        if run.count(_CLOSING[closing]) <= run.count(closing):
            break
        end += 1
    return end


def visual_order(text: str, covered: Callable[[str], bool] = lambda _: True) -> str:
    """`text` (one line, left-to-right paragraph) with each right-to-left run reversed for
    display and Arabic letters in joining forms the font `covered`. Text without
    right-to-left letters is returned unchanged."""
    if not has_right_to_left(text):
        return text
    shaped = _shape_arabic(text, covered)
    classes = _classes(shaped)
    out: list[str] = []
    index = 0
    while index < len(shaped):
        if classes[index] != "R":
            out.append(shaped[index])
            index += 1
            continue
        # The run reaches the last R or number before the next L; neutrals after it keep the
        # paragraph's left-to-right direction (N1).
        end = index
        scan = index
        while scan < len(shaped) and classes[scan] != "L":
            if classes[scan] in ("R", "N"):
                end = scan
            scan += 1
        end = _with_closing_brackets(shaped, index, end)
        out.append(_reverse_run(shaped[index : end + 1]))
        index = end + 1
    return "".join(out)
