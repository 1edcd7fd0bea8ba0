"""A measurement or threshold in words, exactly as recorded.

shared/clinical.md §2: "Boundaries are exact". A value judged against a threshold must never
be shown rounded across it (ΔP 14.996 psi is below 15 and must not read "15"), so a number is
written with every digit it was recorded with — the shortest decimal that reads back as the
same value — never rounded to a fixed number of places or significant digits.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = ["number_text"]


def number_text(value: float) -> str:
    """``10.0`` → ``"10"``, ``14.996`` → ``"14.996"``, ``1e-07`` → ``"0.0000001"``."""
    # repr() is the shortest decimal that reads back as the same float: the digits typed.
    text = format(Decimal(repr(float(value))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
