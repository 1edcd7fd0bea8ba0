"""The service's response made ready to show (CDS Hooks 2.0 §CDS Service Response, §Card
Attributes): plain values only, rendered by an autoescaping template. The card's Markdown
`detail` is reduced to paragraphs, bullet lists and **bold** — nothing the service sends
can become markup."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "CardLink",
    "CardView",
    "DetailBlock",
    "SystemActionView",
    "card_views",
    "markdown_blocks",
    "system_action_views",
]

#: CDS Hooks 2.0 indicators, most urgent first, with the word shown beside the colour.
INDICATOR_LABELS = {"critical": "Critical", "warning": "Warning", "info": "Info"}
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
#: Markdown backslash escapes (``L\&I``): the character itself is what the reader should see.
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!&<>|])")

#: One run of text: (text, bold).
Span = tuple[str, bool]


@dataclass(frozen=True, slots=True)
class DetailBlock:
    kind: str  # "paragraph" or "list"
    lines: tuple[tuple[Span, ...], ...]  # a paragraph's lines, or a list's items


@dataclass(frozen=True, slots=True)
class CardLink:
    label: str
    url: str
    type: str  # "absolute" or "smart"
    app_context: str | None
    #: A smart link to the app this sandbox launches: opened through the EHR launch.
    launchable: bool
    #: An absolute http(s) link shown as a hyperlink (other schemes are shown as text).
    safe_href: bool


@dataclass(frozen=True, slots=True)
class CardView:
    indicator: str
    indicator_label: str
    summary: str
    source_label: str
    source_url: str | None
    detail: tuple[DetailBlock, ...]
    suggestions: tuple[str, ...]
    override_reasons: tuple[str, ...]
    links: tuple[CardLink, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class SystemActionView:
    type: str
    description: str
    resource: str  # Type/id, or the type alone
    json: str  # the resource, indented, for the integrator to read


def _spans(text: str) -> tuple[Span, ...]:
    spans: list[Span] = []
    position = 0
    for match in _BOLD.finditer(text):
        if match.start() > position:
            spans.append((text[position : match.start()], False))
        spans.append((match.group(1) or match.group(2), True))
        position = match.end()
    if position < len(text):
        spans.append((text[position:], False))
    return tuple((_ESCAPED.sub(r"\1", part), bold) for part, bold in spans)


def markdown_blocks(text: str) -> tuple[DetailBlock, ...]:
    """Paragraphs (blank-line separated) and bullet lists; any other Markdown stays text."""
    blocks: list[DetailBlock] = []
    kind: str | None = None
    lines: list[tuple[Span, ...]] = []

    def close() -> None:
        nonlocal kind, lines
        if kind is not None and lines:
            blocks.append(DetailBlock(kind, tuple(lines)))
        kind, lines = None, []

    for raw in text.splitlines():
        if not raw.strip():
            close()
            continue
        bullet = _BULLET.match(raw)
        wanted = "list" if bullet else "paragraph"
        if kind != wanted:
            close()
            kind = wanted
        lines.append(_spans(bullet.group(1) if bullet else raw.strip()))
    close()
    return tuple(blocks)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _link(link: Mapping[str, Any], launch_url: str | None) -> CardLink:
    url, kind = _text(link.get("url")), _text(link.get("type")) or "absolute"
    context = link.get("appContext")
    return CardLink(
        label=_text(link.get("label")) or url,
        url=url,
        type=kind,
        app_context=context if isinstance(context, str) else None,
        launchable=kind == "smart" and launch_url is not None and url == launch_url,
        safe_href=kind == "absolute" and urlsplit(url).scheme in ("http", "https"),
    )


def card_views(response: Mapping[str, Any], launch_url: str | None) -> tuple[CardView, ...]:
    """The cards in the order the service sent them. `launch_url` is the registered app's:
    only a smart link to it is offered as a launch."""
    views: list[CardView] = []
    for card in response.get("cards") or []:
        if not isinstance(card, dict):
            continue
        indicator = _text(card.get("indicator"))
        source = _object(card.get("source"))
        views.append(
            CardView(
                indicator=indicator if indicator in INDICATOR_LABELS else "info",
                indicator_label=INDICATOR_LABELS.get(indicator, indicator or "Unknown"),
                summary=_text(card.get("summary")),
                source_label=_text(source.get("label")),
                source_url=_text(source.get("url")) or None,
                detail=markdown_blocks(_text(card.get("detail"))),
                suggestions=tuple(
                    _text(s.get("label"))
                    for s in card.get("suggestions") or []
                    if isinstance(s, dict)
                ),
                override_reasons=tuple(
                    _text(r.get("display")) or _text(r.get("code"))
                    for r in card.get("overrideReasons") or []
                    if isinstance(r, dict)
                ),
                links=tuple(
                    _link(link, launch_url)
                    for link in card.get("links") or []
                    if isinstance(link, dict)
                ),
            )
        )
    return tuple(views)


def system_action_views(response: Mapping[str, Any]) -> tuple[SystemActionView, ...]:
    views: list[SystemActionView] = []
    for action in response.get("systemActions") or []:
        if not isinstance(action, dict):
            continue
        resource = _object(action.get("resource"))
        name = _text(resource.get("resourceType"))
        if _text(resource.get("id")):
            name = f"{name}/{resource['id']}"
        views.append(
            SystemActionView(
                type=_text(action.get("type")),
                description=_text(action.get("description")),
                resource=name,
                json=json.dumps(resource, indent=2, ensure_ascii=False),
            )
        )
    return tuple(views)
