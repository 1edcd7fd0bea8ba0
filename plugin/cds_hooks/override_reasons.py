"""Reasons a clinician may give for overriding a candidacy card (CDS Hooks 2.0 §Reasons for
rejecting a card). The specification prescribes no set, so these are the product's own codes;
each Coding carries its display, as the card's overrideReasons require (cds-resp-4)."""

from __future__ import annotations

from typing import Any

from plugin.terminology import PRODUCT_CODE_SYSTEMS

__all__ = ["OVERRIDE_REASON", "override_reason_codings"]

OVERRIDE_REASON = PRODUCT_CODE_SYSTEMS["candidacy-override-reason"]


def override_reason_codings() -> list[dict[str, Any]]:
    return [
        {"system": OVERRIDE_REASON.url, "code": code, "display": display}
        for code, display, _ in OVERRIDE_REASON.concepts
    ]
