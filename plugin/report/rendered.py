"""The three renderings of one report, as the FHIR mapping attaches them."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RenderedReport"]


@dataclass(frozen=True, slots=True)
class RenderedReport:
    html: str  # a complete, self-contained HTML document (inline SVG, no external assets)
    pdf: bytes
    text: str  # plain text, what Epic's clinical-note create accepts
