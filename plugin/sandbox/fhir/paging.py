"""Search result paging by opaque page tokens.

The first request of a search runs it and keeps the ordered result (references only); each
page's `next` link carries a random token standing for "this search, from this position", so
paging is consistent while the data changes and no search criteria (which may name a patient)
travel in the links. Tokens expire, and only the client that ran the search may use them.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from plugin.sandbox.clock import Clock

__all__ = ["PagePosition", "SearchResult", "SearchSessions"]

_LIFETIME = timedelta(minutes=30)
_MAX_PAGES_KEPT = 5000


@dataclass(frozen=True, slots=True)
class SearchResult:
    resource_type: str
    client_id: str
    keys: tuple[tuple[str, str], ...]  # (type, id) in result order
    count: int


@dataclass(frozen=True, slots=True)
class PagePosition:
    resource_type: str
    keys: tuple[tuple[str, str], ...]
    offset: int
    count: int

    @property
    def page(self) -> tuple[tuple[str, str], ...]:
        return self.keys[self.offset : self.offset + self.count]

    @property
    def has_next(self) -> bool:
        return self.offset + self.count < len(self.keys)


class SearchSessions:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._pages: OrderedDict[str, tuple[SearchResult, int, datetime]] = OrderedDict()

    def first_page(
        self, resource_type: str, client_id: str, keys: list[tuple[str, str]], count: int
    ) -> tuple[PagePosition, SearchResult]:
        search = SearchResult(resource_type, client_id, tuple(keys), count)
        return PagePosition(resource_type, search.keys, 0, count), search

    def next_token(self, search: SearchResult, offset: int) -> str:
        """A token for the page of `search` starting at `offset`."""
        token = secrets.token_urlsafe(24)
        self._pages[token] = (search, offset, self._clock() + _LIFETIME)
        while len(self._pages) > _MAX_PAGES_KEPT:
            self._pages.popitem(last=False)
        return token

    def page(self, token: str, client_id: str) -> tuple[PagePosition, SearchResult] | None:
        entry = self._pages.get(token)
        if entry is None:
            return None
        search, offset, expires_at = entry
        if expires_at <= self._clock() or search.client_id != client_id:
            return None
        return PagePosition(search.resource_type, search.keys, offset, search.count), search
