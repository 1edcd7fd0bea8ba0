"""JWT ids already seen, so a captured CDS client token cannot be replayed (CDS Hooks 2.0
§Trusting CDS Clients: `jti` is a nonce).

An id is kept until the token's own `exp` (plus the clock leeway): a token cannot pass the
expiry check after that, so forgetting it then is safe. `SeenTokenIds` is what the verifier
needs; the service uses the product database (`token_id_store.TokenIdStore`), shared by every
worker process, so a replay sent to another worker is refused too. `SeenTokenIdsInMemory` serves
a verifier built without a database (tests, a single process).
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["PURGE_INTERVAL_SECONDS", "SeenTokenIds", "SeenTokenIdsInMemory"]

#: Expired ids are forgotten at most this often.
PURGE_INTERVAL_SECONDS = 60.0


class SeenTokenIds(Protocol):
    async def first_use(self, iss: str, jti: str, *, keep_until: float, now: float) -> bool:
        """Record (iss, jti) until `keep_until`; False when it is recorded and not yet expired.
        Of two concurrent first uses of one id, exactly one is True."""
        ...


class SeenTokenIdsInMemory:
    """This process's memory only: with several workers a replay could reach another one."""

    def __init__(self) -> None:
        self._until: dict[tuple[str, str], float] = {}
        self._next_purge = 0.0

    async def first_use(self, iss: str, jti: str, *, keep_until: float, now: float) -> bool:
        # Check and record happen without an await between them, so two concurrent uses
        # cannot both win.
        if now >= self._next_purge:
            self._purge(now)
        key = (iss, jti)
        if key in self._until and self._until[key] > now:
            return False
        self._until[key] = keep_until
        return True

    def __len__(self) -> int:
        return len(self._until)

    def _purge(self, now: float) -> None:
        self._until = {key: until for key, until in self._until.items() if until > now}
        self._next_purge = now + PURGE_INTERVAL_SECONDS
